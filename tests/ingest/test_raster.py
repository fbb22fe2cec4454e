"""``ingest.raster``: real GeoTIFF and NetCDF files from fixtures/rasters (see its README)."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
import rasterio
from numpy.testing import assert_allclose
from pyproj import CRS

from ingest.base import UnreadableFile
from ingest.raster import RasterRejected, iter_blocks, raster_meta, read_raster, read_window

RASTERS = Path(__file__).resolve().parents[2] / "fixtures" / "rasters"
RGB = RASTERS / "RGB.byte.tif"


def test_rgb_byte_masked_band_means_match_rasterio():
    # /work/shared/data/README.md §7: rasterio 1.4.4, masked=True (nodata 0)
    data, meta = read_raster(RGB)
    assert data.shape == (3, 718, 791)
    assert_allclose([data[b].mean() for b in range(3)], [44.4345, 66.0220, 71.3932], atol=5e-5)
    assert meta["crs_epsg"] == 32618
    assert meta["nodata"] == [0.0]
    assert meta["format"] == "GTiff"
    assert meta["bands"] == ["1", "2", "3"]
    assert meta["valid_cells"] + meta["masked_cells"] == 3 * 718 * 791


def test_tmmx_is_unpacked_to_kelvin():
    # gridMET tmmx 2019-01-21, pixel (row 300, col 700) = lat 36.9, lon -95.6: the packed
    # uint16 is 639 (read with netCDF4, auto-scaling off); 639 × 0.1 + 220 = 283.9 K.
    data, meta = read_raster(RASTERS / "tmmx_20190121.nc")
    assert meta["scale"] == [0.1] and meta["offset"] == [220.0]
    assert meta["units"] == "K"
    assert_allclose(data[0, 300, 700], 283.9, rtol=1e-12)
    # _FillValue 32767 (packed) is masked, not unpacked to 3496.7 K
    assert data.mask[0, 0, 0]
    assert 240 < data.min() and data.max() < 310
    assert meta["crs_epsg"] == 4326


def test_modis_fill_value_is_masked_and_sinusoidal_crs_is_read_from_attributes():
    data, meta = read_raster(RASTERS / "MODIS_ARRAY.nc")
    assert meta["nodata"] == [-28672.0]
    assert meta["masked_cells"] == 12  # raw == -28672 in 12 cells (netCDF4, no auto-mask)
    assert data.mask[0, 0, 0]
    assert not (data.compressed() == -28672).any()
    crs = CRS.from_wkt(meta["crs"])
    assert crs.to_epsg() is None and meta["crs_epsg"] is None
    assert crs.coordinate_operation.method_name == "Sinusoidal"
    assert_allclose(meta["transform"][0], 231.6563582639561)


def test_goes_pixels_off_the_earths_disk_are_masked_by_the_per_dataset_mask():
    """Regression (issue #15 item 17): goes.tif has no nodata value but a per-dataset mask
    (GDAL GMF_PER_DATASET) leaving out the space around the Earth's disk; those pixels read
    0 and were taken as valid zeros.

    Hand-worked share of the disk. The view is +proj=geos, h = 35 786 023 m above the GRS80
    ellipsoid (a = 6 378 137 m, b = 6 356 752.314 m), so the satellite is H = h + a =
    42 164 160 m from the Earth's centre. PROJ's geos x and y are scan angles × h; the limb
    is at the angle asin(a / H) = 0.151 852 rad across (x = 5 434 182 m) and about
    asin(b / H) = 0.151 339 rad along the axis (y = 5 415 822 m). With 20 054.96 m pixels the
    disk is an ellipse of semi-axes 270.96 × 270.05 px, area π × 270.96 × 270.05 =
    229 882 px of the 542 × 542 = 293 764 px grid: 21.75 % lies off the disk. GDAL's mask,
    drawn pixel by pixel, leaves out 63 712 px per band (21.69 %).
    """
    data, meta = read_raster(RASTERS / "goes.tif")
    assert meta["nodata"] == []
    assert meta["mask_flags"] == [["per_dataset"]] * 3
    a, b, h = 6378137.0, 6356752.314, 35786023.0
    px = meta["transform"][0]
    rx, ry = np.arcsin(a / (h + a)) * h / px, np.arcsin(b / (h + a)) * h / px
    off_disk = 1 - np.pi * rx * ry / (542 * 542)
    assert_allclose(off_disk, 0.21746, atol=5e-6)
    for band in range(3):
        masked = np.ma.count_masked(data[band]) / data[band].size
        assert_allclose(masked, off_disk, rtol=3e-3)  # the mask's pixel steps on the limb
        assert np.ma.count_masked(data[band]) == 63712
    # the corners are space; the disk's centre is not; dark pixels on the disk stay valid
    assert data.mask[:, 0, 0].all() and not data.mask[:, 271, 271].any()
    assert (data[0] == 0).sum() > 0
    assert meta["masked_cells"] == 3 * 63712
    # the same mask block by block and window by window
    for window, block in iter_blocks(RASTERS / "goes.tif", 2, (100, 542)):
        rows = slice(window.row_off, window.row_off + window.height)
        np.testing.assert_array_equal(block.mask, data.mask[1, rows])
    corner = read_window(RASTERS / "goes.tif", ((0, 0), (20, 30)))
    assert corner.mask.all()


def _rgba(path: Path) -> Path:
    """A 4 × 5 RGBA GeoTIFF: the alpha band is 0 (transparent) in the first column."""
    alpha = np.full((4, 5), 255, np.uint8)
    alpha[:, 0] = 0
    rgb = np.arange(60, dtype=np.uint8).reshape(3, 4, 5)
    profile = dict(
        driver="GTiff", width=5, height=4, count=4, dtype="uint8", photometric="RGB",
        alpha="YES", crs="EPSG:4326", transform=rasterio.transform.from_origin(10, 50, 1, 1),
    )  # fmt: skip
    with rasterio.open(path, "w", **profile) as ds:
        ds.write(np.concatenate([rgb, alpha[np.newaxis]]))
    return path


def test_an_alpha_band_masks_transparent_pixels(tmp_path):
    data, meta = read_raster(_rgba(tmp_path / "rgba.tif"))
    assert meta["mask_flags"][:3] == [["alpha", "per_dataset"]] * 3
    assert data.mask[:3, :, 0].all() and not data.mask[:3, :, 1:].any()
    assert data[0, 0, 0] is np.ma.masked and data[0, 0, 1] == 1  # values of the RGB bands


def test_an_internal_mask_is_honoured(tmp_path):
    """A GeoTIFF with an internal per-dataset mask (rasterio write_mask) and no nodata."""
    path = tmp_path / "masked.tif"
    values = np.zeros((2, 6, 6), np.int16)  # zeros everywhere: only the mask says invalid
    valid = np.full((6, 6), 255, np.uint8)
    valid[2:4, 2:4] = 0
    profile = dict(
        driver="GTiff", width=6, height=6, count=2, dtype="int16", crs="EPSG:32618",
        transform=rasterio.transform.from_origin(0, 60, 10, 10),
    )  # fmt: skip
    with rasterio.Env(GDAL_TIFF_INTERNAL_MASK=True), rasterio.open(path, "w", **profile) as ds:
        ds.write(values)
        ds.write_mask(valid)
    data, meta = read_raster(path)
    assert meta["mask_flags"] == [["per_dataset"]] * 2
    assert (tmp_path / "masked.tif.msk").exists() is False  # inside the file, not beside it
    assert meta["masked_cells"] == 2 * 4 and data.mask[:, 2:4, 2:4].all()


def test_goes_geostationary_crs_is_not_epsg():
    data, meta = read_raster(RASTERS / "goes.tif")
    assert meta["crs_epsg"] is None
    assert "Geostationary" in CRS.from_wkt(meta["crs"]).coordinate_operation.method_name
    assert data.shape == (3, 542, 542)


def test_time_stacked_netcdf_gives_bands_and_times():
    data, meta = read_raster(RASTERS / "PLANET_SCOPE_3D.nc", variable="green")
    assert data.shape == (2, 10, 10)
    assert meta["variables"] == ["blue", "green"] and meta["variable"] == "green"
    assert meta["times"] == [
        "2016-12-19T10:27:29.687763+00:00",
        "2016-12-29T12:52:42.347451+00:00",
    ]
    assert meta["crs_epsg"] == 32722
    _, default = read_raster(RASTERS / "PLANET_SCOPE_3D.nc")
    assert default["variable"] == "blue"


def test_sentinel_2_variables_are_1_by_11_by_12():
    data, meta = read_raster(RASTERS / "sentinel_2_L1C_geographic.nc", variable="nir")
    assert data.shape == (1, 11, 12)
    assert meta["crs_epsg"] == 4326
    assert meta["times"] == ["2016-03-23T14:05:08.463000+00:00"]


def test_nan_is_masked():
    data, _ = read_raster(RASTERS / "float_nan.tif")
    assert np.ma.count_masked(data) == 1


def test_truncated_file_is_an_unreadable_file_naming_it(tmp_path):
    half = tmp_path / "half.tif"
    raw = RGB.read_bytes()
    half.write_bytes(raw[: len(raw) // 2])
    with pytest.raises(UnreadableFile, match=r"half\.tif"):
        read_raster(half)


def test_vrt_urls_and_vsi_paths_are_refused(tmp_path):
    vrt = tmp_path / "x.vrt"
    vrt.write_text(f'<VRTDataset rasterXSize="1" rasterYSize="1"><!-- {RGB} --></VRTDataset>')
    with pytest.raises(RasterRejected, match="VRT"):
        read_raster(vrt)
    for path in ("https://example.org/a.tif", f"/vsizip/{RGB}", f"NETCDF:{RGB}:x"):
        with pytest.raises(RasterRejected, match="local file"):
            read_raster(path)
    with pytest.raises(UnreadableFile, match="no such file"):
        read_raster(tmp_path / "missing.tif")


def test_a_header_over_the_cell_budget_is_refused_before_reading():
    with pytest.raises(RasterRejected, match="exceed the budget"):
        raster_meta(RGB, max_cells=3 * 718 * 791 - 1)
    assert raster_meta(RGB, max_cells=3 * 718 * 791)["shape"] == (3, 718, 791)


def test_blocks_cover_the_band_and_equal_the_whole_read(tmp_path):
    whole, _ = read_raster(RASTERS / "tmmx_20190121.nc")
    seen = np.zeros(whole.shape[1:], dtype=int)
    for window, block in iter_blocks(RASTERS / "tmmx_20190121.nc", 1, (100, 300)):
        rows = slice(window.row_off, window.row_off + window.height)
        cols = slice(window.col_off, window.col_off + window.width)
        seen[rows, cols] += 1
        np.testing.assert_array_equal(block.mask, whole.mask[0, rows, cols])
        assert_allclose(block.filled(0), whole[0, rows, cols].filled(0))
    assert (seen == 1).all()


def test_a_copy_with_a_sidecar_file_reads_the_same(tmp_path):
    # sibling .aux.xml files are ignored: the file's own bytes decide what is read
    copy = tmp_path / "RGB.byte.tif"
    shutil.copy(RGB, copy)
    (tmp_path / "RGB.byte.tif.aux.xml").write_text("<PAMDataset><SRS>EPSG:4326</SRS></PAMDataset>")
    assert read_raster(copy)[1]["crs_epsg"] == 32618
