"""The XML form of the contracts and the XSD we publish for it (``docs/contracts/``).

One element per field in the field's name; lists are a wrapper element holding one ``item`` per
entry; nested models are nested elements; an absent optional field is an absent element. The
real SF1590 schemas are not public: this form keeps the seam, so that an adapter for KOMBIT's
schemas can replace it without touching the contexts.
"""

from __future__ import annotations

import types
import typing
from datetime import date, datetime
from enum import Enum
from typing import Any, Literal, get_args, get_origin

from lxml import etree
from pydantic import BaseModel

from fbs_debitor.contracts.base import Contract

XS = "http://www.w3.org/2001/XMLSchema"


def namespace(group: str, version: int = 1) -> str:
    return f"urn:fbs-debitor:contracts:{group}:v{version}"


def _unwrap_optional(annotation: Any) -> tuple[Any, bool]:
    origin = get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in get_args(annotation) if a is not type(None)]
        if len(args) == 1:
            return args[0], True
    return annotation, False


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Enum):
        return str(value.value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


def _fill(parent: etree._Element, model: BaseModel, ns: str) -> None:
    for name, field in type(model).model_fields.items():
        value = getattr(model, name)
        if value is None:
            continue
        el = etree.SubElement(parent, f"{{{ns}}}{name}")
        if isinstance(value, BaseModel):
            _fill(el, value, ns)
        elif isinstance(value, list):
            for item in value:
                child = etree.SubElement(el, f"{{{ns}}}item")
                if isinstance(item, BaseModel):
                    _fill(child, item, ns)
                else:
                    child.text = _text(item)
        else:
            el.text = _text(value)
        _ = field


def to_xml(message: Contract, group: str) -> bytes:
    """The XML document of one message; root element = the contract's class name."""
    ns = namespace(group)
    root = etree.Element(f"{{{ns}}}{type(message).__name__}", nsmap={None: ns})
    _fill(root, message, ns)
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True))


def _read(el: etree._Element, model: type[BaseModel]) -> dict[str, Any]:
    data: dict[str, Any] = {}
    fields = model.model_fields
    for child in el:
        if not isinstance(child.tag, str):
            continue
        name = etree.QName(child).localname
        if name not in fields:
            data[name] = child.text  # extra="forbid" reports it
            continue
        annotation, _ = _unwrap_optional(fields[name].annotation)
        if get_origin(annotation) is list:
            (item_type,) = get_args(annotation)
            items = [c for c in child if isinstance(c.tag, str)]
            if isinstance(item_type, type) and issubclass(item_type, BaseModel):
                data[name] = [_read(c, item_type) for c in items]
            else:
                data[name] = [c.text or "" for c in items]
        elif isinstance(annotation, type) and issubclass(annotation, BaseModel):
            data[name] = _read(child, annotation)
        else:
            data[name] = child.text or ""
    return data


def from_xml(document: bytes, by_name: dict[str, type[Contract]]) -> Contract:
    """Parse one message; the root element's name picks the contract. Raises ValueError."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
    try:
        root = etree.fromstring(document, parser)
    except etree.XMLSyntaxError as exc:
        raise ValueError(f"not well-formed XML: {exc}") from exc
    name = etree.QName(root).localname
    model = by_name.get(name)
    if model is None:
        raise ValueError(f"unknown message {name!r}; expected one of {', '.join(sorted(by_name))}")
    return model.model_validate(_read(root, model))


# -- XSD ----------------------------------------------------------------------------------------

_SIMPLE = {str: "xs:string", int: "xs:long", bool: "xs:boolean", date: "xs:date"}


def _xs_type(annotation: Any) -> str | None:
    if annotation is datetime:
        return "xs:dateTime"
    if annotation in _SIMPLE:
        return _SIMPLE[annotation]
    return None


def _element(
    parent: etree._Element,
    name: str,
    annotation: Any,
    optional: bool,
    types_: dict[str, BaseModel | type],
) -> None:
    el = etree.SubElement(parent, f"{{{XS}}}element", name=name)
    if optional:
        el.set("minOccurs", "0")
    simple = _xs_type(annotation)
    if simple:
        el.set("type", simple)
        return
    if get_origin(annotation) is Literal:
        st = etree.SubElement(
            etree.SubElement(el, f"{{{XS}}}simpleType"), f"{{{XS}}}restriction", base="xs:string"
        )
        for v in get_args(annotation):
            etree.SubElement(st, f"{{{XS}}}enumeration", value=str(v))
        return
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        st = etree.SubElement(
            etree.SubElement(el, f"{{{XS}}}simpleType"), f"{{{XS}}}restriction", base="xs:string"
        )
        for member in annotation:
            etree.SubElement(st, f"{{{XS}}}enumeration", value=str(member.value))
        return
    if get_origin(annotation) is list:
        (item_type,) = get_args(annotation)
        seq = etree.SubElement(etree.SubElement(el, f"{{{XS}}}complexType"), f"{{{XS}}}sequence")
        item = etree.SubElement(
            seq, f"{{{XS}}}element", name="item", minOccurs="0", maxOccurs="unbounded"
        )
        if isinstance(item_type, type) and issubclass(item_type, BaseModel):
            item.set("type", item_type.__name__)
            types_[item_type.__name__] = item_type
        else:
            item.set("type", _xs_type(item_type) or "xs:string")
        return
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        el.set("type", annotation.__name__)
        types_[annotation.__name__] = annotation
        return
    el.set("type", "xs:string")


def _sequence(parent: etree._Element, model: type[BaseModel], types_: dict[str, Any]) -> None:
    seq = etree.SubElement(parent, f"{{{XS}}}sequence")
    for name, field in model.model_fields.items():
        annotation, optional = _unwrap_optional(field.annotation)
        optional = optional or not field.is_required()
        _element(seq, name, annotation, optional, types_)


def xsd(messages: typing.Sequence[type[Contract]], group: str) -> bytes:
    """The XSD of a group of messages (generated from the models, so the two never drift)."""
    ns = namespace(group)
    schema = etree.Element(
        f"{{{XS}}}schema",
        nsmap={"xs": XS, None: ns},
        targetNamespace=ns,
        elementFormDefault="qualified",
    )
    types_: dict[str, Any] = {}
    for message in messages:
        el = etree.SubElement(schema, f"{{{XS}}}element", name=message.__name__)
        ann = etree.SubElement(
            etree.SubElement(el, f"{{{XS}}}annotation"), f"{{{XS}}}documentation"
        )
        ann.text = f"{message.MESSAGE_TYPE}: {(message.__doc__ or '').strip().splitlines()[0] if message.__doc__ else ''}"
        _sequence(etree.SubElement(el, f"{{{XS}}}complexType"), message, types_)
    done: set[str] = set()
    while set(types_) - done:
        for name in sorted(set(types_) - done):
            ct = etree.SubElement(schema, f"{{{XS}}}complexType", name=name)
            _sequence(ct, types_[name], types_)
            done.add(name)
    return bytes(etree.tostring(schema, xml_declaration=True, encoding="UTF-8", pretty_print=True))
