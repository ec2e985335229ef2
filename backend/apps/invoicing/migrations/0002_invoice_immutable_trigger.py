"""The database's word on immutability: an issued invoice row never changes except its reporting columns, and is
never deleted (whatever code or SQL tries). TRUNCATE (the test database's flush) is not a row operation."""

from django.db import migrations

REPORT_COLUMNS = "ARRAY['report_status', 'report_messages', 'report_attempts', 'reported_at']"

FORWARD = f"""
CREATE FUNCTION invoicing_invoice_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'invoice % is issued: it is never deleted', OLD.number USING ERRCODE = 'restrict_violation';
    END IF;
    IF (to_jsonb(NEW) - {REPORT_COLUMNS}) IS DISTINCT FROM (to_jsonb(OLD) - {REPORT_COLUMNS}) THEN
        RAISE EXCEPTION 'invoice % is issued: only its reporting columns may change', OLD.number
            USING ERRCODE = 'restrict_violation';
    END IF;
    RETURN NEW;
END;
$$;
CREATE TRIGGER invoicing_invoice_immutable BEFORE UPDATE OR DELETE ON invoicing_invoice
    FOR EACH ROW EXECUTE FUNCTION invoicing_invoice_immutable();
"""

BACKWARD = """
DROP TRIGGER IF EXISTS invoicing_invoice_immutable ON invoicing_invoice;
DROP FUNCTION IF EXISTS invoicing_invoice_immutable();
"""


class Migration(migrations.Migration):
    dependencies = [("invoicing", "0001_initial")]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
