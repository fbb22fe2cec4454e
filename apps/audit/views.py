"""``POST /witness/add-checkpoint``: the C2SP tlog-witness endpoint (docs/integrity.md §4).

Plain text in and out, as the spec defines; no session, token or CSRF token: a member
log proves who it is by signing the checkpoint with the key this witness is configured
with (CM_WITNESS_LOGS), and nothing else is accepted. A DRF view without authentication
(so no session, hence no CSRF exposure), kept out of the OpenAPI schema: its bodies are
the spec's text, not JSON.
"""

from __future__ import annotations

from django.http import HttpResponse
from drf_spectacular.utils import extend_schema
from rest_framework.permissions import AllowAny
from rest_framework.views import APIView

from apps.audit.witness import witness_add_checkpoint


class WitnessAddCheckpointView(APIView):
    authentication_classes = ()
    permission_classes = (AllowAny,)

    @extend_schema(exclude=True)
    def post(self, request) -> HttpResponse:
        answer = witness_add_checkpoint(body=request.body)
        return HttpResponse(answer.body, status=answer.status, content_type=answer.content_type)
