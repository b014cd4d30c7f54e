"""Say in the schema what the request decoder accepts for datetimes, times and decimals.

``msgspec.json.schema_components`` describes a ``datetime`` that may be naive or
aware as a bare ``{"type": "string"}`` (it only writes ``"date-time"`` when
``tz=True``), a ``time`` the same way, and a ``Decimal`` as a string of its own
``"decimal"`` format, which JSON Schema does not know. A client (or schemathesis)
reading such a document may send ``""`` for a datetime or ``"abc"`` for a decimal
and get a 422 for a request the document calls valid. ``refine_formats`` walks
the types beside their generated schemas and writes what FastAPI (pydantic)
documents for the first two, and for decimals what the decoder really reads:
a JSON number, or a string holding a decimal number.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import msgspec.inspect as mi

# NOTE: ASCII digits only; the decoder also reads "NaN", "1_000" or " 1", which the document leaves out.
DECIMAL_PATTERN = r"^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?$"


def refine_formats(types: Sequence[Any], schemas: Sequence[dict[str, Any]], components: dict[str, Any],
                   ref_prefix: str) -> None:
    """Refine, in place, the ``schemas`` (one per type) and ``components`` msgspec generated for ``types``."""
    refiner = _Refiner(components, ref_prefix)
    for info, schema in zip(mi.multi_type_info(types), schemas, strict=True):
        refiner.walk(info, schema)


class _Refiner:
    """Walks a msgspec type tree and the schema msgspec made of it, in step (as ``to_schema`` builds it)."""

    def __init__(self, components: dict[str, Any], ref_prefix: str) -> None:
        self.components = components
        self.ref_prefix = ref_prefix
        self.done: set[str] = set()

    def walk(self, t: mi.Type, node: Any) -> None:
        while isinstance(t, mi.Metadata):
            t = t.type
        if not isinstance(node, dict):
            return
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith(self.ref_prefix):
            name = ref[len(self.ref_prefix):]
            if name in self.done:  # each component once (this also ends recursive models)
                return
            self.done.add(name)
            node = self.components.get(name)
            if not isinstance(node, dict):
                return
        if isinstance(t, mi.DateTimeType):
            if t.tz is None:
                node.setdefault("format", "date-time")
        elif isinstance(t, mi.TimeType):
            if t.tz is None:
                node.setdefault("format", "time")
        elif isinstance(t, mi.DecimalType):
            if node.get("format") == "decimal":
                del node["format"], node["type"]
                node["anyOf"] = [{"type": "number"}, {"type": "string", "pattern": DECIMAL_PATTERN}]
        elif isinstance(t, mi.CollectionType):
            self.walk(t.item_type, node.get("items"))
        elif isinstance(t, mi.TupleType):
            self._walk_all(t.item_types, node.get("prefixItems"))
        elif isinstance(t, (mi.DictType, mi.FrozenDictType)):
            self.walk(t.value_type, node.get("additionalProperties"))
        elif isinstance(t, mi.UnionType):
            self._walk_union(t, node)
        elif isinstance(t, (mi.StructType, mi.TypedDictType, mi.DataclassType, mi.NamedTupleType)):
            fields = [field.type for field in t.fields]
            if "prefixItems" in node:  # array_like structs and named tuples
                tagged = isinstance(t, mi.StructType) and t.tag_field is not None
                self._walk_all(fields, node["prefixItems"][1:] if tagged else node["prefixItems"])
            else:
                properties = node.get("properties") or {}
                for field in t.fields:
                    self.walk(field.type, properties.get(field.encode_name))

    def _walk_all(self, types: Sequence[mi.Type], nodes: Any) -> None:
        if isinstance(nodes, list) and len(nodes) == len(types):
            for t, node in zip(types, nodes, strict=True):
                self.walk(t, node)

    def _walk_union(self, t: mi.UnionType, node: dict[str, Any]) -> None:
        """msgspec lists a union's other members first, then its structs (several: one nested anyOf), then None."""
        others: list[mi.Type] = []
        structs: list[mi.Type] = []
        has_none = False
        for member in t.types:
            real = member
            while isinstance(real, mi.Metadata):
                real = real.type
            if isinstance(real, mi.StructType) and not real.array_like:
                structs.append(member)
            elif isinstance(real, mi.NoneType):
                has_none = True
            else:
                others.append(member)
        options = node.get("anyOf")
        if not isinstance(options, list):
            return
        if "discriminator" in node:  # only tagged structs: their anyOf is this node's
            self._walk_all(structs, options)
            return
        if len(options) != len(others) + bool(structs) + has_none:
            return
        self._walk_all(others, options[:len(others)])
        if len(structs) == 1:
            self.walk(structs[0], options[len(others)])
        elif structs:
            self._walk_all(structs, options[len(others)].get("anyOf"))


__all__ = ["DECIMAL_PATTERN", "refine_formats"]
