"""Per-tenant business knowledge (`config/tenants/<name>.yaml`), shared by every service."""

from wapipe.tenants.hours import is_open, next_opening, schedule_text
from wapipe.tenants.models import (
    FAQ,
    FlowRule,
    Hours,
    MediaPolicy,
    MediaRule,
    NonTextRule,
    ReceiptRule,
    Tenant,
    TimeRange,
    Trigger,
)
from wapipe.tenants.registry import TenantConfigError, TenantRegistry, load_tenant

__all__ = [
    "FAQ", "FlowRule", "Hours", "MediaPolicy", "MediaRule", "NonTextRule", "ReceiptRule", "Tenant",
    "TenantConfigError", "TenantRegistry", "TimeRange", "Trigger",
    "is_open", "load_tenant", "next_opening", "schedule_text",
]
