"""An existing single-business database becomes a marketplace of one: every catalog row lands in that business
(created when rows exist without one), which gets a slug, a main branch where its staff work, and memberships for
its people (each staff member's user: staff; each manager with admin access: manager). Nothing is deleted.
A new database has no rows and gets nothing here."""

from django.db import migrations
from django.utils.text import slugify


def forward(apps, schema_editor):
    from apps.catalog.search import normalize

    Business = apps.get_model("catalog", "Business")
    Branch = apps.get_model("catalog", "Branch")
    Membership = apps.get_model("catalog", "Membership")
    Service = apps.get_model("catalog", "Service")
    Staff = apps.get_model("catalog", "Staff")
    WorkingHours = apps.get_model("catalog", "WorkingHours")
    ScheduleException = apps.get_model("catalog", "ScheduleException")
    Closure = apps.get_model("catalog", "Closure")
    User = apps.get_model("accounts", "User")

    owned = [Service, Staff, WorkingHours, ScheduleException, Closure]
    if not Business.objects.exists() and not any(model.objects.exists() for model in owned):
        return
    if not Business.objects.exists():
        Business.objects.create(name_en="Mawid")
    taken: set[str] = set()
    for business in Business.objects.order_by("pk"):
        base = slugify(business.name_en)[:50] or f"business-{business.pk}"
        slug, n = base, 1
        while slug in taken:
            n += 1
            slug = f"{base}-{n}"
        taken.add(slug)
        business.slug = slug
        business.search_text = normalize(" ".join([business.name_ar, business.name_en, slug]))
        business.save(update_fields=["slug", "search_text"])
    first = Business.objects.order_by("pk").first()
    branch = Branch.objects.filter(business=first).order_by("pk").first() or Branch.objects.create(
        business=first, name_en="Main branch", name_ar="الفرع الرئيسي"
    )
    for model in owned:
        model.objects.filter(business__isnull=True).update(business=first)
    Staff.objects.filter(branch__isnull=True).update(branch=branch)
    for user_id in Staff.objects.values_list("user_id", flat=True):
        Membership.objects.get_or_create(business=first, user_id=user_id, defaults={"role": "staff"})
    managers = User.objects.filter(role="manager", is_staff=True, is_superuser=False)
    for user_id in managers.values_list("pk", flat=True):
        Membership.objects.get_or_create(business=first, user_id=user_id, defaults={"role": "manager"})


class Migration(migrations.Migration):
    dependencies = [("catalog", "0004_marketplace"), ("accounts", "0003_otp_abuse_limits")]

    operations = [migrations.RunPython(forward, migrations.RunPython.noop)]
