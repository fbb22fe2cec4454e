"""Thin tasks: take ids, call one service. Safe to run twice (see apps.satellite.services)."""

from __future__ import annotations

from celery import shared_task

from apps.satellite import services


@shared_task(name="satellite.scene_tile_compute", acks_late=True, reject_on_worker_lost=True)
def scene_tile_compute_task(scene_id: int, tile: int) -> None:
    services.scene_tile_compute(scene_id=scene_id, tile=tile)


@shared_task(name="satellite.scene_combine", acks_late=True, reject_on_worker_lost=True)
def scene_combine_task(scene_id: int) -> None:
    services.scene_combine(scene_id=scene_id)
