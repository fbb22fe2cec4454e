"""The upload attack suite (issue #10, "Uploads").

Every entry point that takes a file gets every attack, the hostile files built here
(tests/security/hostile.py): the exporter disclosure upload of the portal
(``/disclosures/upload/``) and of the API (``POST /api/v1/disclosures/``), and
``manage.py ingest <source>`` for every source. Each attack must be refused with a reason
that names the file or field, leave nothing partial behind, and — where the Celery worker
does the reading — leave the worker's pool process alive (the same process, not a
replacement), serving the next good task, with its peak resident memory under
:data:`MEMORY_CAP`.

Memory is measured, not assumed: the pool process's ``VmHWM`` (peak resident set, from
``/proc/<pid>/status``) after every hostile file went through it. The bombs inflate to
1-2 GiB, so a reader that inflated one would pass the cap; the PDF is parsed in a child
limited to 1 GiB of address space (ingest/disclosure/pdf_text.py), outside this figure.
"""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.test.client import BOUNDARY, MULTIPART_CONTENT, FakePayload, encode_multipart

from tests.conftest import ROOT
from tests.security import hostile

pytestmark = pytest.mark.services

#: Peak resident memory allowed to the worker's pool process [bytes] over every hostile file.
MEMORY_CAP = 512 * 2**20
#: Seconds a command waits for the worker to finish one file.
RUN_TIMEOUT = 120

SOURCES = ("customs", "defaults", "factors", "grid", "facilities", "raster", "disclosure")


# --- the hostile files ---------------------------------------------------------------


@pytest.fixture(scope="module")
def hostile_files(tmp_path_factory) -> dict[str, Path]:
    """Every hostile file, by attack, under the name an attacker would give it."""
    folder = tmp_path_factory.mktemp("hostile")
    return {
        "zip bomb": hostile.zip_bomb_xlsx(folder / "declarations.xlsx"),
        "entities in a workbook": hostile.workbook_with_strings(
            folder / "laughs.xlsx", hostile.billion_laughs_strings()
        ),
        "html named xlsx": hostile.html_named_xlsx(folder / "export.xlsx"),
        "billion laughs": hostile.billion_laughs_xml(folder / "DE_production.xml"),
        "external entity": hostile.external_entity_xml(folder / "FI_production.xml"),
        "vrt named tif": hostile.vrt_named_tif(folder / "scene.tif"),
        "truncated geotiff": hostile.truncated_geotiff(folder / "half.tif"),
        "pdf bomb": hostile.pdf_bomb(folder / "report.pdf"),
        "yaml alias bomb": hostile.yaml_alias_bomb(folder / "DE.yaml"),
        "sparse xlsx": hostile.sparse_xlsx(folder / "sparse.xlsx"),
        "million columns": hostile.wide_csv(folder / "wide.csv"),
        "huge period": hostile.entsoe_huge_period(folder / "SE_production.xml"),
    }


def test_the_hostile_files_are_what_they_claim(hostile_files):
    """The attacks are real: small on disk, huge once inflated, well-formed otherwise."""
    import zipfile

    bomb = hostile_files["zip bomb"]
    assert bomb.stat().st_size < 2 * 2**20
    with zipfile.ZipFile(bomb) as archive:
        strings = archive.getinfo("xl/sharedStrings.xml")
        assert strings.file_size > 2**30 > MEMORY_CAP
        with archive.open(strings) as part:  # inflates as declared (first 64 MiB checked)
            assert sum(len(part.read(2**20)) for _ in range(64)) == 64 * 2**20
    pdf = hostile_files["pdf bomb"].read_bytes()
    assert pdf.startswith(b"%PDF-1.4") and len(pdf) < 5 * 2**20
    assert b"/FlateDecode" in pdf
    assert b"/etc/passwd" in hostile_files["vrt named tif"].read_bytes()
    assert b"<!ENTITY lol9" in hostile_files["billion laughs"].read_bytes()
    assert b'SYSTEM "file:///etc/passwd"' in hostile_files["external entity"].read_bytes()
    assert hostile_files["truncated geotiff"].read_bytes().startswith(b"II*\x00")
    # Issue #16 item 4: 256 KB, 10 MB and 667 bytes that ask for 500 million cells, a
    # million columns and 105 million time slots.
    assert hostile_files["sparse xlsx"].stat().st_size < 300 * 1024
    assert hostile_files["million columns"].read_text().split("\n", 1)[0].count(",") == 999_999
    assert hostile_files["huge period"].stat().st_size < 1000


# --- shapes that are small on disk and huge once built (issue #16, item 4) ----------

#: Peak resident memory [bytes] a refused hostile table may cost, the reading process and
#: its parsing child each (before the caps: 16,428 MiB for the sparse workbook, 4,127 MiB
#: for the million-column CSV, measured on this code's predecessor).
SHAPE_MEMORY_CAP = 400 * 2**20

MEASURE = """
import re, resource, sys
from pathlib import Path
from ingest.tabular import load_table
try:
    load_table(sys.argv[1])
    print("read")
except Exception as exc:
    print(f"{type(exc).__name__}: {exc}")
own = int(re.search(r"VmHWM:\\s+(\\d+)", Path("/proc/self/status").read_text()).group(1))
print(own * 1024, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024)
"""


def load_measured(path: Path) -> tuple[str, int, int]:
    """``load_table(path)`` in a fresh interpreter: (outcome, its peak RSS, the peak RSS of
    its parsing child) [bytes]."""
    done = subprocess.run(
        [sys.executable, "-c", MEASURE, str(path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    outcome, peaks = done.stdout.strip().rsplit("\n", 1)
    own, child = map(int, peaks.split())
    return outcome, own, child


def test_a_sparse_workbook_is_refused_while_it_streams_within_bounded_memory(tmp_path):
    path = hostile.sparse_xlsx(tmp_path / "declarations.xlsx")  # no <dimension>
    assert path.stat().st_size < 300 * 1024
    outcome, own, child = load_measured(path)
    # Row 1 already has a value in column XFD, the 16,384th.
    assert outcome == (
        f"TooLarge: {path}: cannot read the file: too large: sheet 'Sheet1' row 1: "
        "columns 16,384 (limit 1,000)"
    )
    assert own < SHAPE_MEMORY_CAP and child < SHAPE_MEMORY_CAP, (own, child)


def test_a_declared_dimension_over_the_caps_is_refused_before_a_row_is_read(tmp_path):
    from ingest.base import TooLarge
    from ingest.tabular import load_table

    path = hostile.sparse_xlsx(tmp_path / "d.xlsx", rows=10, dimension="A1:XFD1048576")
    with pytest.raises(TooLarge, match=r"sheet 'Sheet1' declares columns 16,384 \(limit 1,000\)"):
        load_table(path)


def test_a_million_column_csv_is_refused_on_its_header_within_bounded_memory(tmp_path):
    path = hostile.wide_csv(tmp_path / "declarations.csv")
    outcome, own, child = load_measured(path)
    assert outcome == (
        f"TooLarge: {path}: cannot read the file: too large: columns in the header line "
        "1,000,000 (limit 1,000)"
    )
    assert own < SHAPE_MEMORY_CAP and child < SHAPE_MEMORY_CAP, (own, child)


def _small_table(tmp_path, suffix: str) -> Path:
    """A 4-column table of 3 data rows: 12 cells."""
    rows = [["a", "b", "c", "d"], *[[str(i)] * 4 for i in range(3)]]
    if suffix == ".csv":
        path = tmp_path / "t.csv"
        path.write_text("\n".join(",".join(r) for r in rows) + "\n")
        return path
    from openpyxl import Workbook

    book = Workbook()
    for row in rows:
        book.active.append(row)
    path = tmp_path / "t.xlsx"
    book.save(path)
    return path


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_rows_columns_and_cells_over_their_caps_are_refused_naming_the_limit(
    tmp_path, monkeypatch, suffix
):
    from ingest import tabular
    from ingest.base import TooLarge

    path = _small_table(tmp_path, suffix)
    assert tabular.load_table(path).frame.shape == (3, 4)  # within the real caps
    xlsx = "sheet 'Sheet'"  # openpyxl's default title
    expected = {
        # cap: (value, CSV message, XLSX message)
        "MAX_COLUMNS": (3, "columns in the header line 4 (limit 3)", f"{xlsx} declares columns 4"),
        "MAX_ROWS": (2, "lines after the header 3 (limit 2)", f"{xlsx} declares rows 4"),
        # 3 rows × 4 columns = 12 cells > 11 (the sheet declares 4 rows with its header).
        "MAX_CELLS": (
            11,
            "cells (3 lines × 4 columns) (limit 11)",
            f"{xlsx} declares cells (4 rows × 4 columns) (limit 11)",
        ),
    }
    for cap, (value, csv_message, xlsx_message) in expected.items():
        with monkeypatch.context() as patch:
            patch.setattr(tabular, cap, value)
            with pytest.raises(TooLarge) as refused:
                tabular.load_table(path)
        message = csv_message if suffix == ".csv" else xlsx_message
        assert f"{path}: cannot read the file: too large: {message}" in str(refused.value)


def test_cells_are_counted_while_the_sheet_streams_when_its_dimension_is_absent(
    tmp_path, monkeypatch
):
    from ingest import tabular
    from ingest.base import TooLarge

    # 5 rows × 2 columns (A and B) without a <dimension>: the 5th row makes 10 cells.
    path = tmp_path / "nodim.xlsx"
    hostile.sparse_xlsx(path, rows=5)  # values in A and XFD
    monkeypatch.setattr(tabular, "MAX_COLUMNS", 20_000)
    monkeypatch.setattr(tabular, "MAX_CELLS", 4 * 16_384)
    with pytest.raises(TooLarge) as refused:
        tabular.load_table(path)
    assert str(refused.value).endswith(
        "too large: sheet 'Sheet1': cells (at row 5, 5 rows × 16,384 columns) (limit 65,536)"
    )


def test_a_workbook_stored_under_its_sha256_without_a_suffix_is_read(tmp_path):
    """The evidence store names files by their SHA-256; openpyxl refuses such a path, so
    every XLSX of customs, defaults and facilities failed "not a readable XLSX workbook"
    when the worker read it (found by the upload suite with the sparse workbook)."""
    from ingest.tabular import load_table

    workbook = _small_table(tmp_path, ".xlsx")
    stored = workbook.rename(tmp_path / "2466ca71dadacfa5a62bf7e84be0eb44cfd77ec3db2ddc1200e")
    table = load_table(stored)
    assert table.headers == ["a", "b", "c", "d"] and table.frame.shape == (3, 4)
    assert table.lines.tolist() == [2, 3, 4]


def _allocate(size: int) -> int:
    return len(bytearray(size))


def _sleep(seconds: float) -> None:
    import time

    time.sleep(seconds)


def _refuse(path: str) -> None:
    from ingest.base import MissingColumns

    raise MissingColumns(path, ["net_mass"], ["a", "b"])


def test_a_parse_over_its_memory_or_time_dies_in_its_child_and_the_caller_carries_on():
    from ingest.base import MissingColumns, TooLarge
    from ingest.safety import run_limited

    assert run_limited(_allocate, 2**20, path="small", memory=256 * 2**20) == 2**20
    with pytest.raises(TooLarge) as memory:
        run_limited(_allocate, 2**30, path="big.csv", memory=256 * 2**20)
    assert str(memory.value) == (
        "big.csv: cannot read the file: too large: memory to parse [bytes] over 268,435,456 "
        "(limit 268,435,456)"
    )
    with pytest.raises(TooLarge, match=r"slow.csv: .*parse time \[s\] over 1 \(limit 1\)"):
        run_limited(_sleep, 30, path="slow.csv", seconds=1)
    # The child's own error comes back whole: its type, message and fields.
    with pytest.raises(MissingColumns) as missing:
        run_limited(_refuse, "d.csv", path="d.csv")
    assert missing.value.missing == ["net_mass"] and "columns found: 'a', 'b'" in str(missing.value)


# --- HTTP: the portal and the API -----------------------------------------------------

ENTRIES = ("portal", "api")
URLS = {"portal": "/disclosures/upload/", "api": "/api/v1/disclosures/"}


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    """The users' passwords hashed with a fast hasher (password checks are not tested here)."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def installation(users):
    from apps.facilities.models import Installation

    return Installation.objects.create(
        identifier="IN-UP-0001",
        name="Upload Works",
        organisation=users["org_a"],
        country="IN",
    )


class CountingPayload(FakePayload):
    """The request body as the server reads it, counting the bytes read."""

    def __init__(self, content: bytes) -> None:
        super().__init__(content)
        self.bytes_read = 0

    def read(self, size: int = -1, /) -> bytes:
        data = super().read(size)
        self.bytes_read += len(data)
        return data


class Uploader:
    """An exporter posting multipart bodies to one entry point, as a browser (session and
    CSRF token, checks enforced) or an API client (``Authorization: Token``) does."""

    def __init__(self, entry: str, user, installation) -> None:
        self.entry, self.installation = entry, installation
        self.client = Client(enforce_csrf_checks=True)
        if entry == "portal":
            self.client.force_login(user)
            self.client.get(URLS["portal"])
            self.fields = {
                "installation": installation.pk,
                "csrfmiddlewaretoken": self.client.cookies["csrftoken"].value,
            }
            self.extra = {}
        else:
            response = self.client.post(
                "/api/v1/auth/token/",
                {"username": user.username, "password": f"pw-{user.username}"},
                content_type="application/json",
            )
            self.fields = {"installation": installation.identifier}
            self.extra = {"HTTP_AUTHORIZATION": f"Token {response.json()['token']}"}

    def post(self, **data) -> tuple[object, CountingPayload]:
        body = encode_multipart(BOUNDARY, {**self.fields, "period": 2026, **data})
        payload = CountingPayload(body)
        response = self.client.generic(
            "POST",
            URLS[self.entry],
            body,
            content_type=MULTIPART_CONTENT,
            **{"wsgi.input": payload, **self.extra},
        )
        return response, payload

    def reason(self, response) -> str:
        """The refusal as the user reads it: the API's ``file`` errors, the page's text."""
        if self.entry == "api":
            errors = response.json()["file"]
            return " ".join(errors) if isinstance(errors, list) else errors
        return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode()))


@pytest.fixture(params=ENTRIES)
def uploader(request, users, installation):
    return Uploader(request.param, users["exporter_a"], installation)


def assert_nothing_stored(settings) -> None:
    from apps.disclosures.models import Disclosure, DisclosureVersion
    from apps.evidence.models import EvidenceFile, IngestRun

    assert EvidenceFile.objects.count() == 0
    assert IngestRun.objects.count() == 0
    assert Disclosure.objects.count() == DisclosureVersion.objects.count() == 0
    root = Path(settings.EVIDENCE_ROOT)
    assert not root.exists() or not [p for p in root.rglob("*") if p.is_file()]


def small_cap(settings) -> int:
    from apps.disclosures.views import upload_cap

    settings.CM_MAX_UPLOAD_BYTES = 64 * 1024
    return upload_cap()


def test_a_body_over_the_limit_is_refused_before_it_is_read(db, uploader, settings):
    cap = small_cap(settings)
    big = SimpleUploadedFile("big.csv", b"x" * (4 * cap))
    response, payload = uploader.post(file=big)
    assert response.status_code == 413
    reason = uploader.reason(response)
    assert re.search(rf"file: the request body of [\d,]+ bytes is larger than .*{cap:,}", reason)
    assert payload.bytes_read == 0  # refused on its Content-Length: nothing was read
    assert_nothing_stored(settings)


def test_a_file_over_the_cap_is_refused_naming_the_field(db, uploader, settings):
    cap = small_cap(settings)
    response, _ = uploader.post(file=SimpleUploadedFile("big.csv", b"x" * (cap + 1)))
    assert response.status_code == (200 if uploader.entry == "portal" else 400)
    assert f"the file is larger than {cap:,} bytes" in uploader.reason(response)
    assert_nothing_stored(settings)


def test_too_many_files_in_one_request_are_refused(db, uploader, settings):
    limit = settings.DATA_UPLOAD_MAX_NUMBER_FILES
    files = [SimpleUploadedFile(f"f{i}.csv", b"a,b\n1,2\n") for i in range(limit + 1)]
    response, _ = uploader.post(file=files)
    assert response.status_code == 400
    assert f"file: more than {limit} files in one request" in uploader.reason(response)
    assert_nothing_stored(settings)


def test_too_many_form_fields_are_refused(db, uploader, settings):
    limit = settings.DATA_UPLOAD_MAX_NUMBER_FIELDS
    fields = {f"x{i}": "1" for i in range(limit + 1)}
    response, _ = uploader.post(file=SimpleUploadedFile("d.csv", b"a,b\n"), **fields)
    assert response.status_code == 400
    assert f"more than {limit} form fields in one request" in uploader.reason(response)
    assert_nothing_stored(settings)


def test_oversized_form_fields_are_refused(db, uploader, settings):
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    response, _ = uploader.post(
        file=SimpleUploadedFile("d.csv", b"a,b\n"), cn_code="7" * (limit + 1)
    )
    assert response.status_code == 413
    assert f"form fields are larger than {limit:,} bytes" in uploader.reason(response)
    assert_nothing_stored(settings)


# --- through a real worker: every source of `manage.py ingest`, and the HTTP uploads ---

GOOD_FACILITIES = "facility_id,name,country,latitude,longitude\nIN-GOOD-1,Good Works,IN,23.6,72.8\n"
TEMPLATE_CSV = ROOT / "fixtures" / "disclosures" / "template_example.csv"


def pool_process(worker) -> int:
    """The pid of the worker's one pool process (``--concurrency=1``), from /proc."""
    children = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # a process that ended meanwhile
        if int(fields[1]) == worker.proc.pid:
            children.append(int(stat.parent.name))
    assert len(children) == 1, children
    return children[0]


def peak_rss(pid: int) -> int:
    """The process's peak resident set size [bytes] (``VmHWM``, proc(5))."""
    status = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"^VmHWM:\s+(\d+) kB$", status, re.MULTILINE).group(1)) * 1024


def ingest_start(env: dict[str, str], source: str, paths: list[Path], *options: str):
    """``manage.py ingest SOURCE PATH... --json`` started in its own process."""
    return subprocess.Popen(
        [
            *(sys.executable, "manage.py", "ingest", source, *map(str, paths), "--json"),
            *("--timeout", str(RUN_TIMEOUT), *options),
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def ingest_result(command: subprocess.Popen, files: int) -> tuple[int, list[dict], str]:
    """(exit status, one JSON summary per file, stderr) of a started command."""
    try:
        out, err = command.communicate(timeout=RUN_TIMEOUT * files + 60)
    except subprocess.TimeoutExpired:
        command.kill()
        out, err = command.communicate()
    summaries = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    return command.returncode, summaries, err


@contextmanager
def tasks_on(broker_url: str):
    """Tasks enqueued by this (test) process go to Redis for the real worker instead of
    running in-process (the settings run them eagerly when no broker is configured)."""
    from kombu import pools

    from config.celery import app

    saved = app.conf.task_always_eager, app.conf.broker_url

    def reset() -> None:
        app._pool = None
        app.amqp._producer_pool = None

    app.conf.task_always_eager, app.conf.broker_url = False, broker_url
    reset()
    try:
        yield
    finally:
        app.conf.task_always_eager, app.conf.broker_url = saved
        reset()
        pools.reset()  # close the connections to Redis (kombu keeps them process-wide)


def row_counts() -> dict[str, int]:
    """Rows of every table but the records of the attempts themselves (evidence files,
    ingest runs, disclosure versions and their disclosure, the audit log, sessions)."""
    from django.apps import apps

    records = {"evidence", "audit", "sessions"}
    kept = {"disclosures.disclosure", "disclosures.disclosureversion"}
    return {
        model._meta.label_lower: model.objects.count()
        for model in apps.get_models()
        if model._meta.app_label not in records and model._meta.label_lower not in kept
    }


def files_under(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


#: What each source says of each attack (a regular expression searched in the failure).
NOT_GRID = r"not ENTSO-E XML, an Electricity Maps hourly export, Ember JSON or the IFI"
NOT_RASTER = r"raster refused: not a GeoTIFF or NetCDF file"
XML_RASTER = r"raster refused: VRT/XML rasters are not accepted \(they can reference"
MARKUP_TABLE = r"cannot read the file: HTML or XML markup, not a CSV or XLSX table"
MARKUP_DISCLOSURE = r"rejected: HTML or XML text is not a disclosure format"
BINARY_TABLE = r"cannot read the file: binary content \(NUL bytes\), not a text table"
TABLES = ("customs", "defaults", "factors", "facilities")
EXPECTED: dict[str, dict[str, str]] = {
    "zip bomb": {
        **dict.fromkeys(TABLES, r"refused XLSX: declares \d+ bytes uncompressed \(limit \d+\)"),
        "disclosure": r"rejected: declares \d+ bytes uncompressed \(limit \d+\)",
        "grid": NOT_GRID,
        "raster": NOT_RASTER,
    },
    "entities in a workbook": {
        **dict.fromkeys(
            (*TABLES, "disclosure"), r"sharedStrings.xml: XML with a DTD or entities is refused"
        ),
        "grid": NOT_GRID,
        "raster": NOT_RASTER,
    },
    "html named xlsx": {
        **dict.fromkeys(TABLES, MARKUP_TABLE),
        "disclosure": MARKUP_DISCLOSURE,
        "grid": r"root element 'html' is not a GL_ or Publication_MarketDocument",
        "raster": XML_RASTER,
    },
    "billion laughs": {
        **dict.fromkeys(TABLES, MARKUP_TABLE),
        "disclosure": MARKUP_DISCLOSURE,
        "grid": r"XML with entity declarations or external references is refused",
        "raster": XML_RASTER,
    },
    "external entity": {
        **dict.fromkeys(TABLES, MARKUP_TABLE),
        "disclosure": MARKUP_DISCLOSURE,
        "grid": r"entity declarations or external references is refused .*file:///etc/passwd",
        "raster": XML_RASTER,
    },
    "vrt named tif": {
        **dict.fromkeys(TABLES, MARKUP_TABLE),
        "disclosure": MARKUP_DISCLOSURE,
        "grid": r"root element 'VRTDataset' is not a GL_ or Publication_MarketDocument",
        "raster": XML_RASTER,
    },
    "truncated geotiff": {
        **dict.fromkeys(TABLES, BINARY_TABLE),
        "disclosure": r"rejected: not a PDF, XLSX or CSV file \(binary content\)",
        "grid": NOT_GRID,
        "raster": r"cannot read the file: truncated or corrupt GTiff file",
    },
    "pdf bomb": {
        **dict.fromkeys(TABLES, BINARY_TABLE),
        # The sandboxed child dies at its address-space limit (or its time limit, under load).
        "disclosure": r"cannot read the PDF: .*(allocate|memory|MemoryError|killed|longer than)",
        "grid": NOT_GRID,
        "raster": NOT_RASTER,
    },
    "yaml alias bomb": {
        **dict.fromkeys(("customs", "defaults", "facilities"), r"missing required column"),
        "factors": r"line 2: YAML aliases \(\*l0\) are refused \(alias bomb\)",
        "disclosure": r"missing required column\(s\) section, field, value",
        "grid": NOT_GRID,
        "raster": NOT_RASTER,
    },
    "sparse xlsx": {
        **dict.fromkeys(
            (*TABLES, "disclosure"),
            r"too large: sheet 'Sheet1' row 1: columns 16,384 \(limit 1,000\)",
        ),
        "grid": NOT_GRID,
        "raster": NOT_RASTER,
    },
    "million columns": {
        **dict.fromkeys(
            (*TABLES, "disclosure"),
            r"too large: columns in the header line 1,000,000 \(limit 1,000\)",
        ),
        "grid": NOT_GRID,
        "raster": NOT_RASTER,
    },
    "huge period": {
        **dict.fromkeys(TABLES, MARKUP_TABLE),
        "disclosure": MARKUP_DISCLOSURE,
        # The file is taken, its one period rejected as a row error naming the limit.
        "grid": r"period of 105,189,888 PT15M slots is over the limit of 35,136",
        "raster": XML_RASTER,
    },
}
#: Attacks a source takes as a file with rejected rows (the run is done, nothing accepted).
TAKEN = {("grid", "huge period")}


@pytest.mark.worker
@pytest.mark.timeout(600)  # about 2 min on a quiet machine; 4-5 min under a full CI load
def test_every_entry_point_refuses_every_attack_on_a_real_worker_within_the_memory_cap(
    celery_worker_process, service_env, redis_url, hostile_files, users, installation, tmp_path
):
    from apps.disclosures.models import DisclosureVersion
    from apps.evidence.models import EvidenceFile, IngestRun
    from apps.evidence.selectors import ingest_run_wait

    env = {k: v for k, v in service_env.items() if k != "LLM_BASE_URL"}
    attacks = list(hostile_files)
    paths = [hostile_files[a] for a in attacks]
    uploaders = {entry: Uploader(entry, users["exporter_a"], installation) for entry in ENTRIES}
    pool = pool_process(celery_worker_process)
    before = row_counts()
    var = Path(env["CM_VAR_DIR"])
    var_files = files_under(var)
    failures: dict[tuple[str, str], str] = {}

    # 1. `manage.py ingest <source>` with every hostile file, all sources at once (the
    #    worker reads them one after the other); meanwhile 2. the portal and the API, each
    #    with every hostile file (each entry its own year: the same file for the same
    #    disclosure would be the same version).
    disclosure = ["--exporter", "Exporter A", "--installation", installation.identifier]
    options = {"disclosure": [*disclosure, "--period", "2026"]}
    commands = {
        source: ingest_start(env, source, paths, *options.get(source, ())) for source in SOURCES
    }
    years = {"portal": 2027, "api": 2028}
    with tasks_on(redis_url):
        for entry, uploader in uploaders.items():
            for attack, path in zip(attacks, paths, strict=True):
                upload = SimpleUploadedFile(path.name, path.read_bytes())
                response, _ = uploader.post(file=upload, period=years[entry])
                assert response.status_code in (201, 302), (entry, attack, response.status_code)
                version = DisclosureVersion.objects.get(
                    evidence__sha256=hashlib.sha256(path.read_bytes()).hexdigest(),
                    disclosure__period_year=years[entry],
                )
                assert version.ingest_run.original_name == path.name
                run = ingest_run_wait(run=version.ingest_run, timeout=RUN_TIMEOUT)
                version.refresh_from_db()
                assert version.status == "failed" and version.failure == run.failure
                assert version.values.count() == 0
                failures[entry, attack] = run.failure
    for source, command in commands.items():
        code, summaries, stderr = ingest_result(command, len(paths))
        assert code == 1 and len(summaries) == len(paths), stderr
        for attack, path, summary in zip(attacks, paths, summaries, strict=True):
            assert summary["file"] == str(path)  # the report names the file
            assert summary["accepted"] == 0
            reasons = "; ".join(e["reason"] for e in summary.get("errors", []))
            failures[source, attack] = summary.get("failure") or reasons

    # The same pool process survived every hostile file, its peak memory under the cap.
    assert pool_process(celery_worker_process) == pool
    peak = peak_rss(pool)
    print(f"worker pool process peak RSS (VmHWM) after the attacks: {peak / 2**20:.0f} MiB")
    assert peak < MEMORY_CAP, f"peak RSS {peak / 2**20:.0f} MiB over {MEMORY_CAP / 2**20:.0f} MiB"
    # Each refusal gives its reason.
    wrong = {
        (where, attack): failure
        for (where, attack), failure in failures.items()
        if not re.search(
            EXPECTED[attack]["disclosure" if where in ENTRIES else where], failure or "(none)"
        )
    }
    assert not wrong, "\n".join(f"{k}: {v}" for k, v in wrong.items())
    # Every run failed once and was not retried (but those taken with rejected rows).
    runs = IngestRun.objects.all()
    assert runs.count() == len(failures)
    assert set(runs.values_list("attempts", flat=True)) == {1}
    done = runs.filter(status="done")
    assert done.count() == len(TAKEN) and {r.accepted for r in done} <= {0}
    assert set(runs.exclude(status="done").values_list("status", flat=True)) == {"failed"}
    # Nothing partial: no row anywhere but the records of the attempts, no file in var/,
    # no half-written file in the evidence store.
    assert row_counts() == before
    assert files_under(var) == var_files
    # On PostgreSQL the evidence store is the database (CM_EVIDENCE_STORE=postgres): each
    # stored file's chunks hold exactly its bytes, and nothing is left on disk.
    from django.db.models import Sum
    from django.db.models.functions import Length

    assert not files_under(Path(env["CM_MEDIA_ROOT"]) / "evidence")
    files = EvidenceFile.objects.annotate(held=Sum(Length("chunks__data")))
    assert files.exists()
    assert {(f.sha256, f.held) for f in files} == {(f.sha256, f.size) for f in files}
    assert set(DisclosureVersion.objects.values_list("status", flat=True)) == {"failed"}

    # The same pool process serves good work next: a command and an API upload.
    good = tmp_path / "plants.csv"
    good.write_text(GOOD_FACILITIES)
    code, summaries, stderr = ingest_result(ingest_start(env, "facilities", [good]), 1)
    assert code == 0 and summaries[0]["accepted"] == 1, stderr
    with tasks_on(redis_url):
        upload = SimpleUploadedFile("disclosure.csv", TEMPLATE_CSV.read_bytes())
        response, _ = uploaders["api"].post(file=upload, period=2029)
        assert response.status_code == 201, response.content
        version = DisclosureVersion.objects.get(pk=response.json()["id"])
        ingest_run_wait(run=version.ingest_run, timeout=RUN_TIMEOUT)
    version.refresh_from_db()
    assert version.status == "review" and version.values.count() > 0, version.failure
    assert pool_process(celery_worker_process) == pool
    peak = peak_rss(pool)
    print(f"worker pool process peak RSS (VmHWM) at the end: {peak / 2**20:.0f} MiB")
    assert peak < MEMORY_CAP, f"peak RSS {peak / 2**20:.0f} MiB over {MEMORY_CAP / 2**20:.0f} MiB"
