"""PostgreSQL trigger that keeps an estimate as it was recorded.

An estimate's columns are copies of its trace's result, and the trace's SHA-256 is in
the audit log (``estimate.create``); a row rewritten in place would serve another number
with no event (issue #16 item 11). UPDATE may only set ``superseded_by`` once, from null
(a restatement, ``estimates_supersede``, itself audited); any other UPDATE and every
DELETE are refused. TRUNCATE (the test runner's reset) is statement-level and not
affected. A superuser can still bypass triggers (``session_replication_role = replica``):
``verify_estimates`` and ``POST /api/v1/estimates/{id}/verify`` compare the served
columns with the trace and catch that. SQLite has no such trigger: skipped there.
"""

from django.db import migrations

CREATE_FUNCTION = """
CREATE OR REPLACE FUNCTION estimate_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'estimates are kept: DELETE of estimate % is refused', OLD.id
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF (to_jsonb(NEW) - 'superseded_by_id') IS DISTINCT FROM (to_jsonb(OLD) - 'superseded_by_id')
       OR (OLD.superseded_by_id IS NOT NULL
           AND NEW.superseded_by_id IS DISTINCT FROM OLD.superseded_by_id) THEN
        RAISE EXCEPTION 'estimate % is immutable: only superseded_by may be set, once', OLD.id
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END;
$$;
"""


def create_trigger(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(CREATE_FUNCTION, params=None)
    schema_editor.execute(
        "CREATE TRIGGER estimates_estimate_immutable BEFORE UPDATE OR DELETE "
        "ON estimates_estimate FOR EACH ROW EXECUTE FUNCTION estimate_immutable()"
    )


def drop_trigger(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        "DROP TRIGGER IF EXISTS estimates_estimate_immutable ON estimates_estimate"
    )
    schema_editor.execute("DROP FUNCTION IF EXISTS estimate_immutable()")


class Migration(migrations.Migration):
    dependencies = [("estimates", "0002_estimate_superseded_by")]

    operations = [migrations.RunPython(create_trigger, drop_trigger)]
