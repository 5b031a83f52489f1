"""SMS texts: one segment each, nothing a stranger reading the phone could learn; keywords."""
from __future__ import annotations

import dataclasses

import pytest

from bot.settings import Settings
from bot.sms import texts
from bot.text.phone import normalise_e164

FORBIDDEN = ("abuse", "safeguard", "harm", "neglect", "enquiry", "social work", "police", "council")


@pytest.mark.parametrize("kind", sorted(texts.ALL_TEXTS))
def test_every_sms_fits_one_gsm7_segment_and_says_nothing_sensitive(kind):
    text = texts.render(kind, Settings())
    seg = texts.count_segments(text)
    assert (seg.encoding, seg.segments) == ("GSM-7", 1), (kind, seg)
    lowered = text.lower()
    for word in FORBIDDEN:
        assert word not in lowered, (kind, word)
    assert Settings().sms_sender_name in text


@pytest.mark.parametrize("kind", sorted(texts.ALL_TEXTS))
def test_council_name_only_when_the_setting_allows(kind):
    allowed = dataclasses.replace(Settings(), sms_show_council_name="yes")
    assert Settings().council_name not in texts.render(kind, Settings())
    assert Settings().council_name in texts.render(kind, allowed)
    assert texts.count_segments(texts.render(kind, allowed)).segments == 1


def test_segment_counting():
    assert texts.count_segments("a" * 160) == texts.Segments("GSM-7", 160, 1)
    assert texts.count_segments("a" * 161).segments == 2
    assert texts.count_segments("a" * 306).segments == 2 and texts.count_segments("a" * 307).segments == 3
    assert texts.count_segments("€" * 80) == texts.Segments("GSM-7", 160, 1)  # extension: 2 septets
    assert texts.count_segments("€" * 81).segments == 2
    assert texts.count_segments("é" * 70).encoding == "GSM-7"  # é is in GSM-7
    assert texts.count_segments("ć" * 70) == texts.Segments("UCS-2", 70, 1)
    assert texts.count_segments("ć" * 71).segments == 2
    assert texts.count_segments("😀" * 35) == texts.Segments("UCS-2", 70, 1)  # surrogate pairs
    assert texts.count_segments("😀" * 34 + "ab").segments == 1
    assert texts.count_segments("ć" * 135).segments == 3


@pytest.mark.parametrize("body,expected", [
    ("STOP", "stop"), ("stop", "stop"), ("Stop.", "stop"), (" STOPALL ", "stop"), ("unsubscribe", "stop"),
    ("Cancel", "stop"), ("END", "stop"), ("quit!", "stop"), ("ＳＴＯＰ", "stop"),
    ("START", "start"), ("unstop", "start"), ("HELP", "help"), ("info", "help"),
    ("stop it", None), ("please help", None), ("yes", None), ("", None), (None, None),
])
def test_keywords(body, expected):
    assert texts.keyword(body) == expected


@pytest.mark.parametrize("raw,expected", [
    ("+447700900123", "+447700900123"), ("07700 900123", "+447700900123"), ("0044 7700-900-123", "+447700900123"),
    ("+1 (415) 555-0100", "+14155550100"), ("12345", None), ("+0123456789", None), ("hello", None), (None, None),
])
def test_e164(raw, expected):
    assert normalise_e164(raw) == expected


def test_logs_withhold_e164_numbers():
    from bot.logsafe import redact

    line = redact("sent to +14155550100, form From=%2B447700900123 sid SM0123")
    assert "4155550100" not in line and "447700900123" not in line and "SM0123" in line


def test_a_token_without_the_public_address_stops_start_up_with_a_clear_message():
    import pytest

    from bot.sms.config import load_sms_config

    with pytest.raises(ValueError, match="MSP_SMS_PUBLIC_URL"):
        load_sms_config({"TWILIO_AUTH_TOKEN": "x" * 32})
    assert not load_sms_config({}).receiving
    assert load_sms_config({"TWILIO_AUTH_TOKEN": "x" * 32, "MSP_SMS_PUBLIC_URL": "https://sms.example.gov.uk"}).receiving


def test_make_run_refuses_to_start_with_half_the_sms_settings(tmp_path):
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    env = dict(os.environ, TWILIO_AUTH_TOKEN="x" * 32, MSP_VAR_DIR=str(tmp_path / "var"))
    env.pop("MSP_SMS_PUBLIC_URL", None)
    result = subprocess.run([sys.executable, "-m", "scripts.run"], cwd=root, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert "MSP_SMS_PUBLIC_URL" in result.stderr and "Traceback" not in result.stderr
