"""The name, kind and uploader of a file move from the shared blob to each run (issue #16,
item 1): existing runs get the name their file was stored under where that name was their
own requester's (the same organisation, or the same user, or a blob no organisation
uploaded); a run of another organisation's upload gets no name rather than that
organisation's (reports then show the file's hash)."""

from __future__ import annotations

from django.db import migrations, models


def names_to_runs(apps, schema_editor) -> None:
    IngestRun = apps.get_model("evidence", "IngestRun")
    runs = IngestRun.objects.select_related("evidence", "requested_by").order_by("pk")
    batch = []
    for run in runs.iterator(chunk_size=2000):
        blob = run.evidence
        requester = run.requested_by
        own = (
            blob.organisation_id is None
            or (requester is not None and requester.pk == blob.uploaded_by_id)
            or (requester is not None and requester.organisation_id == blob.organisation_id)
        )
        run.original_name = blob.original_name if own else ""
        batch.append(run)
        if len(batch) >= 2000:
            IngestRun.objects.bulk_update(batch, ["original_name"])
            batch = []
    if batch:
        IngestRun.objects.bulk_update(batch, ["original_name"])


def names_to_blobs(apps, schema_editor) -> None:
    """Reverse: each blob gets the name of its first run (as the old code kept it)."""
    EvidenceFile = apps.get_model("evidence", "EvidenceFile")
    IngestRun = apps.get_model("evidence", "IngestRun")
    for blob in EvidenceFile.objects.all().iterator():
        first = IngestRun.objects.filter(evidence=blob).order_by("pk").first()
        if first is not None:
            blob.original_name = first.original_name
            blob.kind = first.source
            blob.uploaded_by_id = first.requested_by_id
            blob.save(update_fields=["original_name", "kind", "uploaded_by"])


class Migration(migrations.Migration):
    dependencies = [
        ("evidence", "0003_ingestrun_deliveries"),
        ("accounts", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="ingestrun",
            name="original_name",
            field=models.CharField(
                blank=True,
                help_text="the file's name as this run's requester gave it",
                max_length=255,
            ),
        ),
        migrations.AddField(
            model_name="ingestrun",
            name="enqueue_failure",
            field=models.TextField(
                blank=True,
                help_text="why the last attempt to put the task on the queue failed (the run "
                "stays pending; the reconciler sends it again)",
            ),
        ),
        migrations.AddField(
            model_name="ingestrun",
            name="enqueued_at",
            field=models.DateTimeField(
                blank=True, help_text="when the task was last put on the queue", null=True
            ),
        ),
        migrations.AlterField(
            model_name="evidencefile",
            name="original_name",
            field=models.CharField(max_length=255, blank=True, default=""),
        ),
        migrations.AlterField(
            model_name="evidencefile",
            name="kind",
            field=models.CharField(max_length=16, blank=True, default=""),
        ),
        migrations.RunPython(names_to_runs, names_to_blobs),
        migrations.RemoveField(model_name="evidencefile", name="kind"),
        migrations.RemoveField(model_name="evidencefile", name="original_name"),
        migrations.RemoveField(model_name="evidencefile", name="uploaded_by"),
        migrations.RemoveField(model_name="evidencefile", name="organisation"),
    ]
