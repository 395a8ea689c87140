"""Sending the mail outbox: invitations and reminders, with retries and visible status.

A mail row is sent by the :class:`MailWorker`, never by the transaction that queued it, so
a mail server that is down never blocks recording a meeting. For every mail a fresh link
token is made; only its hash is stored (committed before sending, so the link works as
soon as the mail arrives). A failed send is retried with exponential backoff and, after
``max_attempts``, marked ``failed``; ``mailQueue`` and ``/healthz`` show the status.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import smtplib
import ssl
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo
from email.message import EmailMessage
from email.utils import formataddr, make_msgid
from pathlib import Path
from typing import Protocol
from uuid import UUID

from services.feedback import handlers
from services.feedback.contacts import Contact, ContactDirectory, ContactLookupError
from services.feedback.domain import Survey, hash_token, new_token
from services.feedback.handlers import Node, UowFactory, utcnow
from services.feedback.repository import FeedbackRepository
from services.feedback.texts import _, language, local_date
from shared.files import private_dir, write_private
from shared.i18n import Language, use_language

log = logging.getLogger(__name__)

MAX_BACKOFF = 6 * 3600.0


class MailTransport(Protocol):
    async def send(self, message: EmailMessage) -> None: ...


@dataclass(frozen=True, slots=True)
class SmtpTransport:
    host: str
    port: int = 25
    starttls: bool = False
    user: str = ""
    password: str = ""
    timeout: float = 20.0

    async def send(self, message: EmailMessage) -> None:
        await asyncio.to_thread(self._send, message)

    def _send(self, message: EmailMessage) -> None:
        with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
            if self.starttls:
                smtp.starttls(context=ssl.create_default_context())
            if self.user:
                smtp.login(self.user, self.password)
            smtp.send_message(message)


@dataclass(frozen=True, slots=True)
class DirectoryTransport:
    """Demo mode: every mail becomes an ``.eml`` file in ``directory``."""

    directory: Path

    async def send(self, message: EmailMessage) -> None:
        await asyncio.to_thread(self._write, message)

    def _write(self, message: EmailMessage) -> None:
        private_dir(self.directory)  # mails name people: 0700, each .eml 0600
        name = str(message["Message-ID"]).strip("<>").replace("@", "_").replace("/", "_")
        write_private(self.directory / f"{name}.eml", bytes(message))


def retry_delay(attempts: int, base: float) -> float:
    """``base`` after the first failure, doubling, at most six hours."""
    return float(min(base * 2 ** max(attempts - 1, 0), MAX_BACKOFF))


def compose(
    *,
    kind: str,
    contact: Contact,
    lang: Language,
    survey: Survey,
    link: str,
    sender: str,
    tz: tzinfo,
) -> EmailMessage:
    """An invitation or a reminder (``kind``) in ``lang``."""
    with use_language(lang):
        dates = {"date": local_date(survey.held_at, tz), "closes": local_date(survey.closes_at, tz)}
        if kind == "reminder":
            subject = _("Reminder: the feedback survey closes on {closes}", **dates)
            text = _(
                "you have not yet answered the feedback survey on the meeting of {date}. "
                "The survey closes on {closes}:",
                **dates,
            )
        else:
            subject = _("Feedback survey: group meeting on {date}", **dates)
            text = _(
                "thank you for attending your group's meeting on {date}. Please tell us what "
                "you thought in a short survey (a couple of minutes):",
                **dates,
            )
        greeting = _("Hello {name},", name=contact.name) if contact.name else ""
        parts = (
            greeting,
            text,
            link,
            _("The link is personal; please do not forward it."),
            _("Best regards\nMicroENTRE Growth Network"),
        )
    message = EmailMessage()
    message["From"] = sender
    message["To"] = formataddr((contact.name, contact.email)) if contact.name else contact.email
    message["Subject"] = subject
    message["Message-ID"] = make_msgid(domain="mgn.feedback")
    message.set_content("\n\n".join(part for part in parts if part) + "\n")
    message["Content-Language"] = lang  # after set_content, which resets Content-* headers
    return message


@dataclass
class MailStats:
    sent: int = 0
    failures: int = 0
    last_error: str = ""


@dataclass
class MailWorker:
    uows: UowFactory
    node: Node
    directory: ContactDirectory
    transport: MailTransport
    public_base_url: str
    sender: str
    interval: float = 5.0
    retry_base: float = 30.0
    max_attempts: int = 8
    batch: int = 20
    stats: MailStats = field(default_factory=MailStats)
    _wake: asyncio.Event = field(default_factory=asyncio.Event)

    def notify(self) -> None:
        self._wake.set()

    def link(self, token: str) -> str:
        return f"{self.public_base_url}/survey/{token}"

    async def run(self) -> None:
        """Close due surveys, queue due reminders, send due mail; every ``interval`` s."""
        while True:
            try:
                await self.run_once()
            except Exception as exc:  # keep going: the next round retries
                self.stats.last_error = f"{type(exc).__name__}: {exc}"
                log.exception("feedback mail worker round failed")
            self._wake.clear()
            # asyncio.timeout, not wait_for: on 3.11 wait_for can swallow a cancellation
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.interval):
                    await self._wake.wait()

    async def run_once(self, now: datetime | None = None) -> int:
        now = now or utcnow()
        await handlers.close_due_surveys(self.uows, self.node, now)
        await handlers.queue_reminders(self.uows, now)
        return await self.send_due(now)

    async def send_due(self, now: datetime | None = None) -> int:
        """Try every mail whose time has come; the number sent."""
        now = now or utcnow()
        async with self.uows() as uow:
            due = [
                row.id for row in await FeedbackRepository(uow.session).due_mail(now, self.batch)
            ]
        sent = 0
        for mail_id in due:
            if await self._send_one(mail_id, now):
                sent += 1
        return sent

    async def _send_one(self, mail_id: UUID, now: datetime) -> bool:
        token = new_token()
        token_hash = hash_token(token)
        async with self.uows() as uow:
            repo = FeedbackRepository(uow.session)
            row = await repo.mail(mail_id, lock=True)
            if row is None or row.status not in ("pending", "retrying"):
                return False
            invitation = await repo.invitation(row.invitation_id)
            survey = await repo.survey(row.survey_id)
            if invitation is None or invitation.person_id is None or survey is None:
                await uow.session.delete(row)
                await uow.commit()
                return False
            if row.kind == "reminder" and await repo.response_of(invitation.id) is not None:
                row.status, row.last_error = "sent", "skipped: answered before the reminder"
                await uow.commit()
                return False
            if not survey.is_open(now):
                row.status, row.last_error = "failed", "survey closed before the mail was sent"
                await uow.commit()
                return False
            person_id, member_id = invitation.person_id, invitation.member_id
            fallback_language, kind = invitation.language, row.kind
            repo.add_link(token_hash, invitation.id, now)
            await uow.commit()
        error, lang = "", fallback_language
        try:
            contact = await self._contact(member_id, person_id)
            lang = language(contact.language, fallback_language)
            message = compose(
                kind=kind,
                contact=contact,
                lang=lang,
                survey=survey,
                link=self.link(token),
                sender=self.sender,
                tz=self.node.tz,
            )
            await self.transport.send(message)
        except Exception as exc:
            error = f"{type(exc).__name__}: {exc}"[:500]
        async with self.uows() as uow:
            repo = FeedbackRepository(uow.session)
            row = await repo.mail(mail_id, lock=True)
            if row is None:  # erased meanwhile
                await repo.remove_link(token_hash)
                await uow.commit()
                return False
            row.attempts += 1
            if not error:
                row.status, row.sent_at, row.last_error = "sent", utcnow(), ""
                invitation = await repo.invitation(row.invitation_id)
                if invitation is not None:  # the page speaks the mail's language
                    invitation.language = lang
                self.stats.sent += 1
            else:
                await repo.remove_link(token_hash)
                self.stats.failures += 1
                self.stats.last_error = error
                row.last_error = error
                if row.attempts >= self.max_attempts:
                    row.status = "failed"
                else:
                    row.status = "retrying"
                    row.next_attempt_at = now + timedelta(
                        seconds=retry_delay(row.attempts, self.retry_base)
                    )
                log.warning("mail %s attempt %s failed: %s", mail_id, row.attempts, error)
            await uow.commit()
        return not error

    async def _contact(self, member_id: UUID, person_id: UUID) -> Contact:
        contacts = await self.directory.contacts(member_id)
        for contact in contacts:
            if contact.person_id == person_id:
                if not contact.email:
                    raise ContactLookupError(f"person {person_id} has no email address")
                return contact
        raise ContactLookupError(
            f"person {person_id} is not among member {member_id}'s contacts in groups"
        )
