"""kb.search.whoosh_fixes: Whoosh reads mapped segment files without copying them."""

from __future__ import annotations

import io
import pickle
from array import array

import pytest
from whoosh.filedb.structfile import BufferFile

from kb.search import keyword  # noqa: F401 - applies the fix
from kb.search.whoosh_fixes import MappedReader


def test_buffer_files_read_through_the_map_instead_of_a_copy():
    data = bytearray(b"\x00" * 64)
    view = memoryview(data)
    buffered = BufferFile(view)
    assert isinstance(buffered.file, MappedReader)
    data[10:13] = b"abc"  # a copy would not see this
    buffered.seek(10)
    assert buffered.read(3) == b"abc"


def test_mapped_reader_behaves_like_a_read_only_file():
    payload = b"line one\nline two\n" + pickle.dumps({"passage": "نص", "n": [1, 2, 3]}, protocol=2)
    reader = MappedReader(memoryview(payload))
    assert reader.readline() == b"line one\n" and reader.tell() == 9
    assert reader.readline(4) == b"line"
    reader.seek(-1, io.SEEK_CUR)
    assert reader.read(2) == b"e "
    reader.seek(18)
    assert pickle.load(reader) == {"passage": "نص", "n": [1, 2, 3]}
    assert reader.read() == b"" and reader.read(5) == b""
    reader.seek(0, io.SEEK_END)
    assert reader.tell() == len(payload)
    with pytest.raises(ValueError):
        reader.seek(-1)


def test_arrays_read_from_a_mapped_reader():
    numbers = array("i", range(10))
    reader = MappedReader(memoryview(numbers.tobytes()))
    back = array("i")
    back.fromfile(reader, 10)
    assert back == numbers
