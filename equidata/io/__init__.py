"""Record I/O shared by every command: readers, the record types, atomic writers, error policy."""

from equidata.io.chunks import Chunk, encode_line, encode_results, read_chunks
from equidata.io.paths import check_paths
from equidata.io.policy import ON_ERROR, ErrorPolicy, RunCounts
from equidata.io.readers import INPUT_FORMATS, STDIN, RecordSource, read_rows
from equidata.io.records import Reject, Row
from equidata.io.writers import STDOUT, atomic_output, dumps_line, rejects_file, sidecar_path, write_json, write_jsonl

__all__ = [
    "INPUT_FORMATS",
    "ON_ERROR",
    "STDIN",
    "STDOUT",
    "Chunk",
    "ErrorPolicy",
    "RecordSource",
    "Reject",
    "Row",
    "RunCounts",
    "atomic_output",
    "check_paths",
    "dumps_line",
    "encode_line",
    "encode_results",
    "read_chunks",
    "read_rows",
    "rejects_file",
    "sidecar_path",
    "write_json",
    "write_jsonl",
]
