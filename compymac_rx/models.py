"""Imports every table so that SQLModel.metadata is complete (for Alembic and tests)."""

from compymac_rx.accounts.models import (
    AdminClaim,
    AuthSession,
    Identity,
    Invite,
    OidcFlow,
    OneTimeToken,
    PasswordReset,
    RecoveryCode,
    UsedToken,
    User,
)
from compymac_rx.audit.models import AuditEvent
from compymac_rx.chats.models import AgentSession, Message
from compymac_rx.jobs.models import Job
from compymac_rx.keys.models import ApiKey, ModelPreference
from compymac_rx.tokens.models import AccessToken
from compymac_rx.usage.models import DayTotal, ModelDayUsage, StorageTotal, UserDayUsage

__all__ = [
    "AccessToken",
    "AdminClaim",
    "AgentSession",
    "ApiKey",
    "AuditEvent",
    "AuthSession",
    "DayTotal",
    "Identity",
    "Invite",
    "Job",
    "Message",
    "ModelDayUsage",
    "ModelPreference",
    "OidcFlow",
    "OneTimeToken",
    "PasswordReset",
    "RecoveryCode",
    "StorageTotal",
    "UsedToken",
    "User",
    "UserDayUsage",
]
