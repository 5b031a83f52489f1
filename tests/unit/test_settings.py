from bot.settings import Settings, get_settings, load_settings


def test_defaults_are_complete():
    values = Settings().as_dict()
    assert values["emergency_number"] == "999"
    assert all(isinstance(v, str) and v.strip() for v in values.values())


def test_environment_overrides_one_value():
    s = load_settings({"MSP_COUNCIL_NAME": "Northshire Council", "MSP_COUNCIL_PHONE": " 01632 960 999 "})
    assert s.council_name == "Northshire Council"
    assert s.council_phone == "01632 960 999"
    assert s.samaritans_phone == Settings().samaritans_phone


def test_blank_override_is_ignored():
    assert load_settings({"MSP_COUNCIL_PHONE": "   "}).council_phone == Settings().council_phone


def test_unrelated_variables_are_ignored():
    assert load_settings({"COUNCIL_NAME": "x", "MSP_NOT_A_SETTING": "y"}) == Settings()


def test_get_settings_is_cached():
    assert get_settings() is get_settings()
