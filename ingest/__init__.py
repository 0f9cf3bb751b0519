"""Find, probe, hash and label videos; decode and sample frames; the demo dataset.

Imports no other package of ours.
"""

from ingest.decode import DAMAGE_LIMIT, DamagedVideo, decode_clip, decode_frames, sample_indices
from ingest.discover import VIDEO_EXTENSIONS, discover
from ingest.errors import IngestError, UnreadableVideo
from ingest.labels import LabelNames, read_labels_csv
from ingest.probe import VideoInfo, content_hash, probe
from ingest.scan import ScanResult, scan_folder

__all__ = [
    "DAMAGE_LIMIT", "DamagedVideo", "IngestError", "LabelNames", "ScanResult", "UnreadableVideo", "VIDEO_EXTENSIONS", "VideoInfo",
    "content_hash", "decode_clip", "decode_frames", "discover", "probe", "read_labels_csv", "sample_indices", "scan_folder",
]
