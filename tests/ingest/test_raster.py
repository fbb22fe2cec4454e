"""``ingest.raster``: real GeoTIFF and NetCDF files from fixtures/rasters (see its README)."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from numpy.testing import assert_allclose
from pyproj import CRS

from ingest.base import UnreadableFile
from ingest.raster import RasterRejected, iter_blocks, raster_meta, read_raster

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
