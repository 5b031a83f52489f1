"""MSP records: the single owner of the MSP tables.

Importing this package creates nothing (no engine, no file, no tables).
Use ``session_scope()`` for a short unit of work and pass the session to the
named functions below; run ``upgrade_to_head()`` (or ``msp db upgrade``) to
create or update the tables.

    from bot.records import session_scope, record_outcome

    with session_scope() as session:
        record_outcome(session, enquiry_id, text, participant_id=p.id,
                       recorded_by="assistant", channel="web")
"""
from .consents import (
    consent_history,
    consent_status,
    give_consent,
    has_consent,
    refuse_consent,
    withdraw_consent,
)
from .db import database_url, dispose_engines, get_engine, session_scope
from .enquiries import (
    add_participant,
    can_text,
    close_enquiry,
    create_enquiry,
    get_enquiry,
    get_enquiry_by_reference,
    get_or_create_participant,
    list_participants,
    require_enquiry_by_reference,
    set_contact_preferences,
)
from .errors import (
    AlreadyExists,
    AppendOnlyError,
    Conflict,
    EmptyOutcomeText,
    InvalidValue,
    NotFound,
    OutcomeConflict,
    OutcomeTextError,
    OutcomeTooLong,
    RecordsError,
)
from .invitations import (
    RateLimit,
    RedeemResult,
    create_invitation,
    invitation_link,
    redeem,
    redeem_code,
    redeem_token,
)
from .links import is_linked, live_link
from .models import (
    MAX_OUTCOME_CHARS,
    OUTCOME_CATEGORIES,
    OUTCOME_CATEGORY_LABELS,
    AskedRecord,
    Consent,
    DesiredOutcome,
    Enquiry,
    Invitation,
    InvitationLink,
    OutcomeReview,
    Participant,
    WidgetRevocation,
)
from .outcomes import (
    change_outcome,
    current_outcomes,
    outcome_history,
    record_asked,
    record_outcome,
    record_review,
    withdraw_outcome,
)
from .reporting import SG4aFigures, publish_count, sg4a_figures
from .schema import upgrade_to_head

