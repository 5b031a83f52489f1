"""The advocacy pages: make a referral (answers kept word for word), see its delivery state, resend,
acknowledged; who sees which referral; clear messages for bad input; audit rows."""
from __future__ import annotations

import re

from bot.records import advocacy, session_scope
from tests.portal.helpers import audit_rows
from tests.portal.test_enquiries import body, post


def _make(client, **fields):
    data = {"enquiry": "SG-ADV-1", "answered_by": "representative", "consent": "She said yes, go ahead",
            "understand": "  she says the letters are too hard  ", "support": "her son, but he is the worry"}
    data.update(fields)
    return post(client, "/advocacy/new", data)


def test_a_practitioner_makes_sees_resends_and_marks_a_referral_acknowledged(signed_in, enquiry_for, records_url):
    client, account = signed_in("practitioner", username="pat.worker", team="North")
    enquiry_for("pat.worker", "SG-ADV-1")
    response = _make(client)
    assert response.status_code == 302
    referral_id = int(re.search(r"/advocacy/(\d+)\?done=made", response.headers["Location"]).group(1))
    with session_scope(records_url, read_only=True) as db:
        view = advocacy.referral_view(db, referral_id)
    assert advocacy.answers_by_question(view)["understand"] == "  she says the letters are too hard  "
    assert view.answered_by == "representative" and view.recorded_by == "pat.worker" and view.state == "queued"
    page = body(client.get(f"/advocacy/{referral_id}"))
    assert "she says the letters are too hard" in page and "Queued" in page and view.reference in page
    assert "not an assessment of capacity" in page
    assert "SG-ADV-1" in body(client.get("/advocacy/"))
    assert post(client, f"/advocacy/{referral_id}/resend").status_code == 302
    assert post(client, f"/advocacy/{referral_id}/acknowledged").status_code == 302
    page = body(client.get(f"/advocacy/{referral_id}?done=acknowledged"))
    assert "Acknowledged by the provider" in page and "resend" in page and "by pat.worker" in page
    actions = [row["action"] for row in audit_rows(records_url)]
    for action in ("advocacy.made", "advocacy.view", "advocacy.resent", "advocacy.acknowledged", "advocacy.list"):
        assert action in actions


def test_bad_input_is_shown_again_with_the_reason(signed_in, enquiry_for):
    client, _ = signed_in("practitioner", username="pat.worker", team="North")
    enquiry_for("pat.worker", "SG-ADV-1")
    response = _make(client, understand="", support="no one")
    assert response.status_code == 400 and "four difficulties" in body(response)
    assert "no one" in body(response)  # what was typed is kept
    response = _make(client, enquiry="SG-NOT-MINE")
    assert response.status_code == 400 and "no enquiry with that reference" in body(response)
    assert _make(client, consent="").status_code == 400


def test_practitioners_see_only_their_teams_referrals_and_leads_see_all(signed_in, enquiry_for, records_url):
    enquiry_for("someone.else", "SG-ADV-2")
    with session_scope(records_url) as db:
        unlinked = advocacy.make_referral(db, {"understand": "hard"}, answered_by="person", consent_words="yes",
                                        recorded_by="x", channel="staff", source="staff", source_ref="a",
                                        enquiry_id=None).id
    client, _ = signed_in("practitioner", username="pat.worker", team="North")
    assert client.get(f"/advocacy/{unlinked}").status_code == 404
    assert "0 referrals" in body(client.get("/advocacy/"))
    lead, _ = signed_in("lead", username="lena.lead")
    assert lead.get(f"/advocacy/{unlinked}").status_code == 200
    assert "1 referral" in body(lead.get("/advocacy/"))
    auditor, _ = signed_in("auditor", username="aud.itor")
    assert auditor.get("/advocacy/").status_code == 403


def test_leads_see_undelivered_referrals_on_the_start_page(signed_in, records_url):
    with session_scope(records_url) as db:
        referral = advocacy.make_referral(db, {"understand": "hard"}, answered_by="person", consent_words="yes",
                                          recorded_by="x", channel="staff", source="staff", source_ref="f")
        claimed = advocacy.claim_next(db, 30)
        advocacy.mark_failed(db, claimed.delivery_id, "relay answered 451; gave up after 8 tries")
    lead, _ = signed_in("lead", username="lena.lead")
    page = body(lead.get("/"))
    assert "1 advocacy referral could not be delivered" in page and "hard" not in page
    assert f"/advocacy/{referral.id}" in body(lead.get("/advocacy/?state=failed"))
    practitioner, _ = signed_in("practitioner", username="pat.worker", team="North")
    assert "could not be delivered" not in body(practitioner.get("/"))


def test_a_worker_records_that_consent_is_withdrawn_and_the_referral_is_not_sent(signed_in, enquiry_for,
                                                                                 records_url):
    client, _ = signed_in("practitioner", username="pat.worker", team="North")
    enquiry_for("pat.worker", "SG-ADV-1")
    referral_id = int(re.search(r"/advocacy/(\d+)\?done=made", _make(client).headers["Location"]).group(1))
    assert "Record that consent is withdrawn" in body(client.get(f"/advocacy/{referral_id}"))
    response = post(client, f"/advocacy/{referral_id}/withdraw",
                    {"given_by": "representative", "words": "She <b>doesn't</b> want it now"})
    assert response.status_code == 302 and response.headers["Location"].endswith("done=withdrawn")
    page = body(client.get(f"/advocacy/{referral_id}?done=withdrawn"))
    assert "Consent withdrawn" in page and "Record that consent is withdrawn" not in page
    with session_scope(records_url, read_only=True) as db:
        assert advocacy.referral_view(db, referral_id).state == "withdrawn"
        assert advocacy.claim_next(db, 30) is None
        last = advocacy.consents(db, referral_id)[-1]
        assert (last.decision, last.given_by, last.words, last.recorded_by) == (
            "withdrawn", "representative", "She <b>doesn't</b> want it now", "pat.worker")
    assert "advocacy.withdrawn" in [row["action"] for row in audit_rows(records_url)]
