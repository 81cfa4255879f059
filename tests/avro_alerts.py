"""Real alert packets as the ZTF archive ships them: the snapshot's packets (Parquet rows in the
fink-science sdist) written back to Avro container files, one per alert, in a nightly tarball.

The Avro schema of each file is the packets' own, read from the Parquet file's Arrow schema
(every field nullable, as ZTF's schema makes most of them); only the fields of the ZTF alert
schema are kept (Fink's added columns, such as its SIMBAD cross-match, are not in an archive
packet)."""

from __future__ import annotations

import io
import tarfile

import fastavro
import pyarrow as pa

ZTF_FIELDS = ("schemavsn", "publisher", "objectId", "candid", "candidate", "prv_candidates",
              "cutoutScience", "cutoutTemplate", "cutoutDifference")


def _avro_type(arrow_type: pa.DataType, name: str):
    if pa.types.is_struct(arrow_type):
        fields = [{"name": f.name, "type": _avro_type(f.type, f"{name}_{f.name}")}
                  for f in arrow_type]
        return ["null", {"type": "record", "name": name, "fields": fields}]
    if pa.types.is_list(arrow_type) or pa.types.is_large_list(arrow_type):
        return ["null", {"type": "array",
                         "items": _avro_type(arrow_type.value_type, f"{name}_item")}]
    for test, avro in ((pa.types.is_boolean, "boolean"), (pa.types.is_float32, "float"),
                       (pa.types.is_floating, "double"), (pa.types.is_int64, "long"),
                       (pa.types.is_integer, "int"), (pa.types.is_binary, "bytes"),
                       (pa.types.is_large_binary, "bytes"), (pa.types.is_string, "string"),
                       (pa.types.is_large_string, "string")):
        if test(arrow_type):
            return ["null", avro]
    raise TypeError(f"{name}: no Avro type for Arrow {arrow_type}")


def avro_schema(table: pa.Table) -> dict:
    """A parsed Avro schema for the ZTF fields of ``table``'s rows."""
    fields = [{"name": f.name, "type": _avro_type(f.type, f.name)}
              for f in table.schema if f.name in ZTF_FIELDS]
    return fastavro.parse_schema({"type": "record", "name": "alert", "namespace": "ztf",
                                  "fields": fields})


def night_tarball(tables: dict) -> tuple[bytes, list[dict]]:
    """A ``ztf_public_<night>.tar.gz`` body of every packet of ``tables`` (name -> Arrow table),
    one ``<candid>.avro`` each; and the packets written."""
    buffer, written = io.BytesIO(), []
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for table in tables.values():
            schema = avro_schema(table)
            for row in table.to_pylist():
                packet = {k: v for k, v in row.items() if k in ZTF_FIELDS}
                avro = io.BytesIO()
                fastavro.writer(avro, schema, [packet])
                info = tarfile.TarInfo(f"{packet['candid']}.avro")
                info.size = len(avro.getvalue())
                archive.addfile(info, io.BytesIO(avro.getvalue()))
                written.append(packet)
    return buffer.getvalue(), written
