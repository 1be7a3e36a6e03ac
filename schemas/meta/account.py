"""The `value` of Meta's account-level webhook fields (Graph API v25.0): templates, number quality, account updates,
calls. Every model keeps unknown fields, like the rest of `schemas.meta`.

Template fields: `message_template_status_update`, `message_template_quality_update`,
`message_template_components_update`, `template_category_update`; each names the template by id, name and language.
"""

from __future__ import annotations

from schemas.meta.objects import DigitId, _Open

TEMPLATE_FIELDS = frozenset({"message_template_status_update", "message_template_quality_update",
                             "message_template_components_update", "template_category_update"})
ACCOUNT_FIELDS = frozenset({"phone_number_quality_update", "account_update"})


class TemplateInfo(_Open):
    """`other_info` of a status update: why a template was paused, unpaused, locked (FIRST_PAUSE, UNPAUSE...)."""

    title: str | None = None
    description: str | None = None


class TemplateValue(_Open):
    message_template_id: DigitId | None = None
    message_template_name: str
    message_template_language: str | None = None
    # status update
    event: str | None = None
    reason: str | None = None
    message_template_category: str | None = None
    other_info: TemplateInfo | None = None
    # quality update
    previous_quality_score: str | None = None
    new_quality_score: str | None = None
    # category update (completed: previous -> new; impending: new is the current one, correct the coming one)
    previous_category: str | None = None
    new_category: str | None = None
    correct_category: str | None = None


class PhoneQualityValue(_Open):
    display_phone_number: DigitId | None = None
    event: str | None = None
    current_limit: str | None = None
    old_limit: str | None = None
    max_daily_conversations_per_business: str | None = None


class AccountUpdateValue(_Open):
    """`event` (ACCOUNT_RESTRICTION, ACCOUNT_VIOLATION, DISABLED_UPDATE, VERIFIED_ACCOUNT, PARTNER_REMOVED...) and,
    depending on it, `ban_info`, `violation_info`, `restriction_info`, `waba_info`, ... (kept as sent)."""

    event: str | None = None
    phone_number: DigitId | None = None
