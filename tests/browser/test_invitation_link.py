"""An invitation link opens the widget linked to the person's enquiry (outcomes issue)."""
from __future__ import annotations

import uuid

from bot.records import create_enquiry, create_invitation, list_participants, session_scope
from bot.records.invitations import invitation_link


def records_url(site) -> str:
    return site.stack.env()["DATABASE_URL"]


def test_a_link_from_the_letter_links_the_chat_after_the_welcome(chat, site):
    with session_scope(records_url(site)) as session:
        enquiry_id = create_enquiry(session, f"SG-LINK-{uuid.uuid4().hex[:8]}").id
        token = create_invitation(session, enquiry_id).token
    link = invitation_link(token, base_url=site.demo)
    assert link.startswith(site.demo) and token in link

    chat.goto(link)
    # The token leaves the address bar at once (not in history, not shown over a shoulder).
    assert token not in chat.page.url
    # The chat opens by itself: the person came to use it.
    assert chat.page.get_attribute(".msp-launcher", "aria-expanded") == "true"
    chat.wait_idle(min_bot=4)
    said = " ".join(chat.bot_texts())
    # The welcome first, then the link is made, then the first question; nothing about
    # the enquiry is shown, and the person never sees the token.
    assert said.index("not a person") < said.index("now linked") < said.index("for yourself")
    assert "SG-LINK" not in said and token not in chat.page.content()
    assert chat.user_texts() == []
    chat.screenshot("invitation-linked")

    answer = chat.choose("For myself")
    assert any("write down" in text for text in answer), answer
    with session_scope(records_url(site), read_only=True) as session:
        assert [p.role for p in list_participants(session, enquiry_id)] == ["person"]
