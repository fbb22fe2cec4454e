"""The methodology pages are generated from the engine, so what they show is the code."""

from __future__ import annotations

import inspect
import pprint
from html import escape

import pytest

from apps.web.templatetags.legal import legal
from methodologies import METHODOLOGIES, certificates, hydrogen


@pytest.fixture
def official(db):
    from apps.accounts.models import User

    return User.objects.create_user("reader", password="x", role=User.Role.OFFICIAL)


def test_the_list_names_every_registered_methodology_and_version(client, official):
    client.force_login(official)
    body = client.get("/methodologies/").content.decode()
    for m in METHODOLOGIES.values():
        assert f'href="/methodologies/{m.id}/"' in body and m.version in body


def test_a_constant_shown_on_the_page_is_the_modules_value(client, official):
    client.force_login(official)
    body = client.get("/methodologies/cbam.certificates/").content.decode()
    shown = body.split('id="const-CBAM_FACTOR_BY_YEAR"')[1].split("</tr>")[0]
    assert escape(pprint.pformat(certificates.CBAM_FACTOR_BY_YEAR, width=88, sort_dicts=False)) in (
        shown
    )
    assert "0.515" in shown  # 2030, docs/method-cbam.md
    body = client.get("/methodologies/hydrogen.rfnbo/").content.decode()
    row = body.split('id="const-THRESHOLD_G_PER_MJ"')[1].split("</tr>")[0]
    assert f'<pre class="value">{hydrogen.THRESHOLD_G_PER_MJ!r}</pre>' in row


@pytest.mark.parametrize("methodology_id", list(METHODOLOGIES))
def test_every_page_shows_the_docstrings_and_all_public_constants(client, official, methodology_id):
    client.force_login(official)
    m = METHODOLOGIES[methodology_id]
    body = client.get(f"/methodologies/{methodology_id}/").content.decode()
    assert escape(m.summary) in body
    assert legal(inspect.getdoc(m.module).splitlines()[0]) in body  # acts linked (EUR-Lex)
    for name, value in vars(m.module).items():
        if name.isupper() and not name.startswith("_") and not inspect.ismodule(value):
            if f'id="const-{name}"' not in body:
                continue  # imported from another module, not defined here
            row = body.split(f'id="const-{name}"')[1].split("</tr>")[0]
            assert escape(pprint.pformat(value, width=88, sort_dicts=False)) in row, name
    for name, fn in inspect.getmembers(m.module, inspect.isfunction):
        if fn.__module__ == m.module.__name__ and not name.startswith("_") and fn.__doc__:
            assert legal(inspect.getdoc(fn).splitlines()[0]) in body, name
