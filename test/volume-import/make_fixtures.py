"""Writes TIFF and HDF5 test inputs with independent writers (tifffile, Pillow/libtiff, h5py) plus the truth.

Usage: make_fixtures.py OUTDIR
Every volume V is also saved as V.raw (C order, little endian) with its shape and dtype in manifest.json,
so the TypeScript tests compare against what Python put in, not against what any reader gets out.
"""
import json
import os
import sys

import h5py
import numpy as np
import tifffile
from PIL import Image

out = sys.argv[1]
os.makedirs(out, exist_ok=True)
rng = np.random.default_rng(20231)
manifest = {}


def truth(name, vol):
    vol.astype(vol.dtype.newbyteorder("<")).tofile(os.path.join(out, name + ".raw"))
    manifest[name] = {"shape": list(vol.shape), "dtype": str(vol.dtype.newbyteorder("=").name)}


def folder(name):
    d = os.path.join(out, name)
    os.makedirs(d, exist_ok=True)
    return d


# 1. uint16, little endian, strips of 3 rows, uncompressed; names without zero padding (slice_2 < slice_10).
u16 = rng.integers(0, 65536, size=(11, 20, 17), dtype=np.uint16)
truth("u16", u16)
d = folder("u16")
for z in range(u16.shape[0]):
    tifffile.imwrite(os.path.join(d, f"slice_{z}.tif"), u16[z], rowsperstrip=3, photometric="minisblack")

# 2. float32, big endian, 16x16 tiles (the image is not a multiple of the tile size).
f32 = rng.normal(1.5, 0.7, size=(9, 21, 35)).astype(np.float32)
truth("f32", f32)
d = folder("f32be")
for z in range(f32.shape[0]):
    tifffile.imwrite(os.path.join(d, f"recon_{z:05d}.tiff"), f32[z], byteorder=">", tile=(16, 16), photometric="minisblack")

# 3. uint16, Deflate with horizontal-differencing predictor, strips of 4 rows; 24 slices for the resume test.
zz, yy, xx = np.meshgrid(np.arange(24), np.arange(18), np.arange(16), indexing="ij")
dz = (zz * 1000 + yy * 37 + xx * 11 + rng.integers(0, 50, size=zz.shape)).astype(np.uint16)
truth("deflate", dz)
d = folder("deflate")
for z in range(dz.shape[0]):
    tifffile.imwrite(os.path.join(d, f"img{z:04d}.tif"), dz[z], compression="zlib", predictor=True, rowsperstrip=4, photometric="minisblack")

# 4. libtiff (through Pillow) LZW uint16, large enough to use 12-bit codes and Clear codes.
lzw = rng.integers(0, 4000, size=(4, 64, 80), dtype=np.uint16)
truth("lzw16", lzw)
d = folder("lzw16")
for z in range(lzw.shape[0]):
    Image.fromarray(lzw[z], mode="I;16").save(os.path.join(d, f"s{z}.tif"), compression="tiff_lzw")

# 5. libtiff LZW with predictor 2 (uint16) and Deflate with the floating-point predictor 3 (float32).
truth("lzw16p", lzw)
d = folder("lzw16p")
for z in range(lzw.shape[0]):
    Image.fromarray(lzw[z], mode="I;16").save(os.path.join(d, f"s{z}.tif"), compression="tiff_lzw", tiffinfo={317: 2})
fp = rng.normal(0, 1e3, size=(3, 30, 41)).astype(np.float32)
truth("fpred", fp)
d = folder("fpred")
for z in range(fp.shape[0]):
    Image.fromarray(fp[z], mode="F").save(os.path.join(d, f"s{z}.tif"), compression="tiff_adobe_deflate", tiffinfo={317: 3})

# 6. libtiff PackBits uint8.
pb = (np.arange(5 * 33 * 29).reshape(5, 33, 29) // 5 % 256).astype(np.uint8)
pb[:, ::3, :] = rng.integers(0, 256, size=pb[:, ::3, :].shape, dtype=np.uint8)
truth("packbits", pb)
d = folder("packbits")
for z in range(pb.shape[0]):
    Image.fromarray(pb[z]).save(os.path.join(d, f"p_{z:03d}.tif"), compression="packbits")

# 6b. int16, big endian, Deflate with predictor, in 16x16 tiles.
bep = (rng.integers(-3000, 3000, size=(3, 40, 33))).astype(np.int16)
truth("bepred", bep)
d = folder("bepred")
for z in range(bep.shape[0]):
    tifffile.imwrite(os.path.join(d, f"t{z}.tif"), bep[z], byteorder=">", tile=(16, 16), compression="zlib", predictor=True, photometric="minisblack")

# 7. One multi-page big-endian uint8 file (Deflate), and one BigTIFF float32 multi-page file.
mp = rng.integers(0, 256, size=(7, 13, 19), dtype=np.uint8)
truth("multipage", mp)
tifffile.imwrite(os.path.join(out, "multipage.tif"), mp, byteorder=">", compression="zlib", photometric="minisblack")
bt = rng.normal(size=(6, 10, 12)).astype(np.float32)
truth("bigtiff", bt)
tifffile.imwrite(os.path.join(out, "bigtiff.tif"), bt, bigtiff=True, photometric="minisblack")

# Bad inputs.
d = folder("bad_size")
for z in range(3):
    tifffile.imwrite(os.path.join(d, f"s{z}.tif"), u16[z, :, : (17 if z != 1 else 16)], photometric="minisblack")
d = folder("bad_dtype")
for z in range(3):
    tifffile.imwrite(os.path.join(d, f"s{z}.tif"), u16[z] if z != 2 else u16[z].astype(np.float32), photometric="minisblack")
d = folder("bad_compression")
for z in range(3):
    tifffile.imwrite(os.path.join(d, f"s{z}.tif"), u16[z], photometric="minisblack")
with tifffile.TiffFile(os.path.join(d, "s1.tif"), mode="r+b") as t:
    t.pages[0].tags["Compression"].overwrite(7)  # claims JPEG
d = folder("bad_gap")
for z in (0, 1, 3):
    tifffile.imwrite(os.path.join(d, f"s{z}.tif"), u16[z], photometric="minisblack")
d = folder("bad_truncated")
for z in range(2):
    tifffile.imwrite(os.path.join(d, f"s{z}.tif"), u16[z], photometric="minisblack")
with open(os.path.join(d, "s1.tif"), "r+b") as fh:
    size = fh.seek(0, 2)
    fh.truncate(size - 100)
folder("empty")

# HDF5: DXchange layout with the voxel size stated in microns; chunked and gzip-compressed.
h5 = rng.normal(2.0, 0.5, size=(10, 12, 9)).astype(np.float32)
truth("h5", h5)
with h5py.File(os.path.join(out, "dxchange.h5"), "w") as f:
    f.create_dataset("exchange/data", data=h5, chunks=(3, 12, 9), compression="gzip")
    r = f.create_dataset("measurement/instrument/detection_system/objective/resolution", data=0.65)
    r.attrs["units"] = "micron"
# The same sample at a later time point, as a multi-page float32 TIFF (for adding a time point to an image).
h5t1 = (h5 + rng.normal(0, 0.1, size=h5.shape)).astype(np.float32)
truth("h5t1", h5t1)
tifffile.imwrite(os.path.join(out, "t1.tif"), h5t1, photometric="minisblack")
# NeXus-like layout, big-endian uint16, no voxel size.
h5u = rng.integers(0, 65536, size=(5, 7, 8), dtype=np.uint16)
truth("h5u", h5u)
with h5py.File(os.path.join(out, "nexus.h5"), "w") as f:
    f.create_dataset("entry/data/data", data=h5u.astype(">u2"))
# A voxel size without units must not be used.
with h5py.File(os.path.join(out, "nounits.h5"), "w") as f:
    f.create_dataset("exchange/data", data=h5)
    f.create_dataset("measurement/instrument/detection_system/objective/resolution", data=0.65)
with open(os.path.join(out, "not-hdf5.h5"), "wb") as fh:
    fh.write(b"this is not an HDF5 file" * 10)

with open(os.path.join(out, "manifest.json"), "w") as fh:
    json.dump(manifest, fh)
print("ok")
