"""The request log keeps each EWS operation's attributes (what the client asked beyond storing)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from exchangelib import Attendee, CalendarItem, EWSDateTime, EWSTimeZone, Mailbox
from exchangelib.items import SEND_TO_ALL_AND_SAVE_COPY

from .conftest import ALICE, BOB

BERLIN = EWSTimeZone("Europe/Berlin")


def test_operation_attributes_are_logged(account: Any, emu: Any) -> None:
    acc = account(ALICE)
    start = EWSDateTime(2024, 6, 3, 9, 0, tzinfo=BERLIN)
    item = CalendarItem(
        folder=acc.calendar,
        subject="Review",
        start=start,
        end=start + dt.timedelta(hours=1),
        required_attendees=[Attendee(mailbox=Mailbox(email_address=BOB))],
    )
    emu.request_log.clear()
    item.save(send_meeting_invitations=SEND_TO_ALL_AND_SAVE_COPY)
    item.subject = "Review (moved)"
    item.save(update_fields=["subject"], send_meeting_invitations=SEND_TO_ALL_AND_SAVE_COPY)
    item.delete(send_meeting_cancellations=SEND_TO_ALL_AND_SAVE_COPY)
    logged = {e.operation: e.attributes for e in emu.request_log.entries()}
    assert logged["CreateItem"]["SendMeetingInvitations"] == "SendToAllAndSaveCopy"
    assert logged["UpdateItem"]["SendMeetingInvitationsOrCancellations"] == "SendToAllAndSaveCopy"
    assert logged["DeleteItem"]["SendMeetingCancellations"] == "SendToAllAndSaveCopy"
    assert logged["UpdateItem"]["ConflictResolution"] == "AutoResolve"
    assert emu.request_log.as_json()["entries"][-1]["attributes"]["DeleteType"] == "HardDelete"
