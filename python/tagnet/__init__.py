"""tagnet: Azure service-tag lookups, UDR plans, NSG verify and flow logs, from Python.

The engine is the tagnet Rust crate; this package hands it Arrow buffers and wraps what it
returns as Arrow arrays, so bulk lookups cost tens of nanoseconds an address and release the
GIL while they run.

>>> import tagnet
>>> idx = tagnet.Index.builtin()
>>> [m["tag"] for m in idx.lookup("20.38.98.100")][:2]   # doctest: +SKIP
['AzureCloud', 'AzureCloud.westeurope']

Bulk, from any Arrow string array, pandas Series, NumPy array or list of strings::

    result = idx.lookup_arrow(pa.array(["20.38.98.100", "10.0.0.4", None]))
    # list<struct<tag, region, service, prefix>>: one list per address, null for nulls

Errors are raised as :class:`TagnetError` (a ``ValueError``) with the CLI's messages.
"""

from __future__ import annotations

import json
import os
import warnings
from typing import Any, Dict, Iterable, List, Optional, Sequence, Tuple, Union

import pyarrow as pa
import pyarrow.compute as pc

from . import _tagnet
from ._tagnet import TagnetError

#: The version of tagnet this package was built from (as ``tagnet --version`` prints it).
__version__: str = _tagnet.__version__


class StaleSnapshotWarning(UserWarning):
    """The snapshot in use is more than two weeks old: service tags change weekly. Refresh
    with ``tagnet fetch`` (or silence with ``warnings.simplefilter("ignore",
    tagnet.StaleSnapshotWarning)``)."""

__all__ = [
    "Index",
    "TagnetError",
    "StaleSnapshotWarning",
    "__version__",
    "read_flow_logs",
    "attribute_flows",
    "verify_flows",
    "MATCH_TYPE",
    "ATTRIBUTION_TYPE",
]

#: The element type of :meth:`Index.lookup_arrow`'s lists.
MATCH_TYPE = pa.struct(
    [
        ("tag", pa.dictionary(pa.int32(), pa.string())),
        ("region", pa.dictionary(pa.int32(), pa.string())),
        ("system_service", pa.dictionary(pa.int32(), pa.string())),
        ("prefix", pa.dictionary(pa.int32(), pa.string())),
    ]
)

#: The type of :meth:`Index.attribute_arrow`'s rows.
ATTRIBUTION_TYPE = pa.struct(
    [
        ("class", pa.string()),
        ("service", pa.string()),
        ("region", pa.string()),
        ("tag", pa.string()),
        ("prefix", pa.string()),
    ]
)

_CLASSES = ["azure", "private", "internet", "cloud", "custom"]

ArrayLike = Union[pa.Array, pa.ChunkedArray, Sequence[Optional[str]], Any]


def _as_arrow(values: ArrayLike) -> pa.Array:
    """An Arrow array of strings (or of uint32 IPv4 addresses) from what the caller has."""
    if isinstance(values, (str, bytes, bytearray, memoryview)):
        # A lone string would be read as a sequence of one-character addresses (a buffer of
        # bytes as one-byte integers).
        raise TypeError(
            f"addresses: an array, Series or list of addresses, not one {type(values).__name__}: "
            f"[{values!r}] (or Index.lookup() for one address)"
        )
    import array as _array

    if isinstance(values, _array.array) and values.itemsize < 4:
        raise TypeError(
            f"addresses: array('{values.typecode}') holds {8 * values.itemsize}-bit integers, "
            "not IPv4 addresses; give strings, or IPv4 as unsigned 32-bit integers"
        )
    if isinstance(values, (set, frozenset, dict)):
        # Results come back in the input's order: an unordered collection has none.
        raise TypeError(
            f"addresses: an ordered array, Series or list, not a {type(values).__name__} "
            "(its order is undefined, and results are given in input order): sorted(...) or list(...) it"
        )
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    if not isinstance(values, pa.Array):
        try:
            import pandas as pd  # optional

            if isinstance(values, pd.Series):
                values = pa.Array.from_pandas(values)
        except ImportError:  # pragma: no cover - pandas is optional
            pass
    if not isinstance(values, pa.Array):
        try:
            values = pa.array(values)
        except (pa.ArrowInvalid, pa.ArrowTypeError) as e:
            # Mixed types (`["1.2.3.4", 5]`): what the values are, not pyarrow's words.
            raise TypeError(
                "addresses: every value a string (or every value an IPv4 address as an "
                f"unsigned 32-bit integer), with None for nulls ({e})"
            ) from None
        except OverflowError as e:
            raise TagnetError(f"addresses: {e}") from None
    if pa.types.is_null(values.type):
        values = values.cast(pa.string())
    if pa.types.is_dictionary(values.type):
        values = values.dictionary_decode()
    if pa.types.is_string_view(values.type) if hasattr(pa.types, "is_string_view") else False:
        values = values.cast(pa.large_string())
    if pa.types.is_integer(values.type):
        if values.type.bit_width < 32:
            # uint8 or int16 values are not IPv4 addresses (a byte buffer read as numbers).
            raise TypeError(
                f"addresses: {values.type} integers are not IPv4 addresses; give strings, or "
                "IPv4 as unsigned 32-bit integers (uint32)"
            )
        if values.type != pa.uint32():
            try:
                values = values.cast(pa.uint32())
            except (pa.ArrowInvalid, OverflowError):
                raise TagnetError(
                    "integer addresses are IPv4 as unsigned 32-bit values (0 to 4294967295); "
                    "give IPv6 and anything else as strings"
                ) from None
        return values
    if not (pa.types.is_string(values.type) or pa.types.is_large_string(values.type)):
        raise TypeError(
            f"addresses must be strings (or uint32 IPv4 integers), not {values.type}"
        )
    return values


def _int32(buf: bytes) -> pa.Array:
    return pa.Array.from_buffers(pa.int32(), len(buf) // 4, [None, pa.py_buffer(buf)])


def _count(value: Optional[int]) -> Optional[int]:
    """A count for the native side: a negative one is sent as 0, which the library refuses
    with its own message (Python's integer conversion would raise OverflowError)."""
    return None if value is None else max(int(value), 0)


def _addresses(value: Any, name: str) -> Optional[int]:
    """A number of addresses (0 or more), or None; anything else is refused, never clamped."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{name}= takes a number of addresses (0 or more), not {value!r}")
    return value


def _flag(value: Any, name: str) -> bool:
    """A true/false argument: a string such as "false" is refused (it would read as true)."""
    if not isinstance(value, bool):
        raise TypeError(f"{name}= takes True or False, not {value!r}")
    return value


def _strings(values: Any, name: str) -> List[str]:
    """A list of strings; a lone string is refused (it would be read as its characters)."""
    if isinstance(values, (str, bytes)):
        raise TypeError(f"{name}= takes a list of strings, not one string: [{values!r}]")
    return [str(v) for v in values]


def _asgs(asgs: Optional[Dict[str, Sequence[str]]]) -> Dict[str, List[str]]:
    """ASG members as the native side takes them: name → list of addresses."""
    return {str(k): _strings(v, f"asgs[{k!r}]") for k, v in (asgs or {}).items()}


def _raw(buf: Optional[pa.Buffer]):
    """A buffer as the native side takes it: a bytes view of the Buffer (read in place through
    the buffer protocol, never copied; no address crosses as an integer). Arrow exports its
    buffers as signed bytes (`b`); the view is cast to unsigned ones (`B`)."""
    return None if buf is None else memoryview(buf).cast("B")


def _validity(arr: pa.Array):
    if arr.null_count == 0:
        return None
    return _raw(arr.buffers()[0])


def _columns_of(arr: pa.Array, native: Any, fn: str, strict: bool):
    """Calls the native bulk function on an Arrow array's buffers, without copying them."""
    bufs = arr.buffers()
    if pa.types.is_uint32(arr.type):
        return native.lookup_u32(_raw(bufs[1]), arr.offset, len(arr), _validity(arr))
    wide = pa.types.is_large_string(arr.type)
    return getattr(native, fn)(
        _raw(bufs[2]), _raw(bufs[1]), wide, arr.offset, len(arr), _validity(arr), strict
    )


def _extra(
    sources: Optional[Sequence[str]], custom: Optional[Sequence[Any]]
) -> Tuple[List[str], List[str]]:
    """Other sources as the CLI takes them: the arguments, else ``TAGNET_SOURCES`` and
    ``TAGNET_CUSTOM`` (paths joined by the platform's separator)."""

    def env(name: str) -> List[str]:
        v = os.environ.get(name) or ""
        return [p for p in v.split(os.pathsep) if p]

    if isinstance(sources, (str, bytes)) or isinstance(custom, (str, bytes)):
        raise TypeError("sources and custom are lists of paths, not one string")
    s = list(sources) if sources is not None else env("TAGNET_SOURCES")
    c = [os.fspath(p) for p in custom] if custom is not None else env("TAGNET_CUSTOM")
    return s, c


class Index:
    """A service-tag snapshot, indexed.

    Build it once (about 40 ms for the public cloud's file) and share it: every method is
    safe to call from several threads.
    """

    def __init__(self, native: Any) -> None:
        self._native = native
        names, regions, services = native.tag_table()
        self._names = pa.array(names, pa.string())
        self._regions = pa.array(regions, pa.string())
        self._services = pa.array(services, pa.string())
        self._attr_services = pa.array(native.service_table(), pa.string())
        self._prefixes: Optional[pa.Array] = None

    @classmethod
    def open(
        cls,
        spec: Optional[Union[str, "os.PathLike[str]"]] = None,
        sources: Optional[Sequence[str]] = None,
        custom: Optional[Sequence[Union[str, "os.PathLike[str]"]]] = None,
    ) -> "Index":
        """The snapshot the CLI would use: ``spec`` as ``--tags`` takes it (a path, ``latest``,
        ``cnNNN``, ``Public:latest``, ``builtin``), else ``TAGNET_TAGS`` (empty counts as
        unset), else the newest snapshot ``tagnet fetch`` cached (``TAGNET_CACHE`` or the
        user cache folder), else the built-in one. Warns (:class:`StaleSnapshotWarning`) when
        the snapshot is more than two weeks old, as the CLI does.

        ``sources``: other providers' files answered beside Azure's, as ``--source`` takes
        them (``"aws_ip-ranges.json"``, ``"cloudflare=ips-v4.txt"``; default
        ``TAGNET_SOURCES``). ``custom``: your own named ranges, as ``--custom`` takes them
        (JSON, CSV or a TOML file's ``[tags]``; default ``TAGNET_CUSTOM``)."""
        if spec is None:
            spec = os.environ.get("TAGNET_TAGS") or None
        sources, custom = _extra(sources, custom)
        return cls._warned(
            _tagnet.open(None if spec is None else os.fspath(spec), sources, custom)
        )

    @classmethod
    def builtin(cls) -> "Index":
        """The snapshot built into tagnet (see ``tagnet info``), whatever ``TAGNET_TAGS``
        says; warns when it is old, as the CLI does."""
        return cls._warned(_tagnet.builtin())

    @classmethod
    def load(
        cls,
        path: Union[str, "os.PathLike[str]"],
        sources: Optional[Sequence[str]] = None,
        custom: Optional[Sequence[Union[str, "os.PathLike[str]"]]] = None,
    ) -> "Index":
        """A service-tag file (``ServiceTags_Public_YYYYMMDD.json``, gzip or not); warns when
        its name dates it more than two weeks ago. ``sources`` and ``custom`` as for
        :meth:`open`."""
        sources, custom = _extra(sources, custom)
        return cls._warned(_tagnet.load_path(os.fspath(path), sources, custom))

    @classmethod
    def _warned(cls, native: Any) -> "Index":
        for message in native.stale_warnings():
            # The CLI's words, the flag spelled as Python's call.
            message = message.replace("give `--tags builtin`", "use `Index.builtin()`")
            warnings.warn(message, StaleSnapshotWarning, stacklevel=3)
        return cls(native)

    @classmethod
    def from_bytes(cls, data: bytes, origin: str = "bytes") -> "Index":
        """A service-tag file's bytes (JSON or gzip): what Spark broadcasts to executors."""
        data = bytes(data)
        if data[:2] == b"\x1f\x8b":
            import gzip

            data = gzip.decompress(data)
        # No date travels with bytes; a snapshot older than the built-in one still warns.
        return cls._warned(_tagnet.load_bytes(data, origin))

    @staticmethod
    def builtin_bytes() -> bytes:
        """The built-in snapshot's JSON bytes."""
        return _tagnet.builtin_bytes()

    @property
    def info(self) -> Dict[str, Any]:
        """Cloud, change number, tag count and distinct prefix counts."""
        cloud, change, tags, v4, v6 = self._native.info()
        return {
            "cloud": cloud,
            "change_number": change,
            "tags": tags,
            "ipv4_prefixes": v4,
            "ipv6_prefixes": v6,
        }

    def _prefix_dict(self) -> pa.Array:
        if self._prefixes is None:
            self._prefixes = pa.array(self._native.prefix_table(), pa.string())
        return self._prefixes

    def lookup(self, address: str) -> List[Dict[str, str]]:
        """Every tag holding one address, with the matching prefix: the records of
        ``tagnet lookup --format json`` (``tag``, ``region``, ``system_service``, ``prefix``).
        About a microsecond a call from the first one; for many addresses,
        :meth:`lookup_arrow` is faster still.

        Raises :class:`TagnetError` when ``address`` is not an IP address, and ``TypeError``
        when it is not a string.
        """
        if not isinstance(address, str):
            raise TypeError(
                f"lookup() takes one address as a string, not {type(address).__name__}; "
                "for many addresses use lookup_arrow()"
            )
        if "/" in address:
            raise TagnetError(
                f"`{address}` is a prefix; lookup() takes one address: for the tags related to a "
                f"prefix use lookup_report({address!r})"
            )
        # As the CLI's JSON: `provider` only for a tag that is not Microsoft's.
        return [
            {"tag": t, "region": r, "system_service": s, "prefix": p}
            if v is None
            else {"tag": t, "region": r, "system_service": s, "provider": v, "prefix": p}
            for t, r, s, p, v in self._native.lookup_records(address)
        ]

    def lookup_arrow(self, addresses: ArrayLike, errors: str = "raise") -> pa.ListArray:
        """Every tag of every address: ``list<struct<tag, region, service, prefix>>``.

        ``addresses``: an Arrow string or uint32 array (IPv4 as integers), a pandas Series,
        a NumPy array or a list. Null rows give null lists. A row that is not an address
        raises :class:`TagnetError` naming the row, or gives null with ``errors="null"``.
        The fields are dictionary-encoded, so a million results share one copy of each name.
        """
        if errors not in ("raise", "null"):
            raise TagnetError(f'errors="{errors}": "raise" or "null"')
        arr = _as_arrow(addresses)
        offsets, tags, prefixes, state = _columns_of(
            arr, self._native, "lookup_strings", errors == "raise"
        )
        tag_idx = _int32(tags)
        prefix_idx = _int32(prefixes)
        values = pa.StructArray.from_arrays(
            [
                pa.DictionaryArray.from_arrays(tag_idx, self._names),
                pa.DictionaryArray.from_arrays(tag_idx, self._regions),
                pa.DictionaryArray.from_arrays(tag_idx, self._services),
                pa.DictionaryArray.from_arrays(prefix_idx, self._prefix_dict()),
            ],
            fields=list(MATCH_TYPE),
        )
        st = pa.Array.from_buffers(pa.uint8(), len(state), [None, pa.py_buffer(state)])
        mask = pc.not_equal(st, 0) if arr.null_count or b"\x02" in state else None
        return pa.ListArray.from_arrays(_int32(offsets), values, mask=mask)

    def attribute_arrow(self, addresses: ArrayLike, errors: str = "raise") -> pa.StructArray:
        """One row per address as ``tagnet flows attribute`` names it:
        ``struct<class, service, region, tag, prefix>``.

        ``class`` is ``azure`` (in a tag), ``cloud`` (another provider's, with ``sources``), ``custom`` (your own ranges), ``private`` or ``internet``; ``tag`` is the most
        specific tag (a service's over ``AzureCloud``, regional over global, then the longest
        prefix); ``region`` comes from that tag or from the ``AzureCloud.<region>`` tag.
        """
        if errors not in ("raise", "null"):
            raise TagnetError(f'errors="{errors}": "raise" or "null"')
        arr = _as_arrow(addresses)
        if pa.types.is_uint32(arr.type):
            arr = pa.array(
                [None if v is None else str(_ipv4(v)) for v in arr.to_pylist()], pa.string()
            )
        cls, tag, region, prefix = _columns_of(arr, self._native, "attribute_strings", errors == "raise")
        n = len(arr)
        c = pa.Array.from_buffers(pa.uint8(), n, [None, pa.py_buffer(cls)])
        valid = pc.not_equal(c, 255)
        t, r, p = _int32(tag), _int32(region), _int32(prefix)

        def pick(idx: pa.Array, dictionary: pa.Array) -> pa.Array:
            masked = pc.if_else(pc.less(idx, 0), None, idx)
            return pc.take(dictionary, masked)

        class_names = pa.array(_CLASSES + [None], pa.string())
        class_idx = pc.if_else(valid, c, len(_CLASSES))
        return pa.StructArray.from_arrays(
            [
                pc.take(class_names, class_idx),
                pick(t, self._attr_services),
                pick(r, self._regions),
                pick(t, self._names),
                pick(p, self._prefix_dict()),
            ],
            fields=list(ATTRIBUTION_TYPE),
            mask=pc.invert(valid),
        )

    def udr(
        self,
        region: Union[str, Sequence[str]],
        profile: str = "aml-vnet-2020",
        ipv6: bool = False,
        max_routes: int = 400,
    ) -> List[Dict[str, Any]]:
        """The user-defined routes forced tunneling needs (as ``tagnet udr``): dicts of
        ``name``, ``address_prefix``, ``next_hop`` and ``tags``."""
        regions = [region] if isinstance(region, str) else list(region)
        return self._native.udr(regions, profile, ipv6, max_routes)

    # The use cases, as the CLI's `--format json` and the server's `/v1` answer them (the same
    # library functions; a refused request raises TagnetError with the same message, fields
    # spelled as keyword arguments: `max_routes=`).

    def udr_report(
        self,
        region: Union[str, Sequence[str]],
        *,
        paired: bool = False,
        profile: Optional[str] = None,
        tags: Sequence[str] = (),
        only_tags: Sequence[str] = (),
        ipv6: bool = False,
        next_hop: Optional[str] = None,
        next_hop_ip: Optional[str] = None,
        max_routes: Optional[int] = None,
        reserve: Optional[int] = None,
        exact: bool = False,
        use_service_tags: bool = False,
        never_cover: Sequence[str] = (),
        max_extra: Optional[int] = None,
        ipv6_shares_budget: bool = False,
    ) -> Dict[str, Any]:
        """``tagnet udr --format json``: routes, budget, extra addresses, notes, snapshot."""
        regions = [region] if isinstance(region, str) else list(region)
        return json.loads(
            self._native.udr_json(
                regions, paired, profile, _strings(tags, "tags"), _strings(only_tags, "only_tags"),
                ipv6, next_hop, next_hop_ip, _count(max_routes), _count(reserve), exact, use_service_tags,
                _strings(never_cover, "never_cover"), _addresses(max_extra, "max_extra"),
                _flag(ipv6_shares_budget, "ipv6_shares_budget"),
            )
        )

    def tags(
        self,
        region: Optional[str] = None,
        service: Optional[str] = None,
        feature: Optional[str] = None,
        name: Optional[str] = None,
    ) -> Dict[str, Any]:
        """``tagnet tags --format json``: ``{"snapshot", "records"}``."""
        return json.loads(self._native.tags_json(region, service, feature, name))

    def prefixes(
        self,
        *tags: str,
        region: Optional[str] = None,
        family: str = "any",
        aggregate: bool = False,
        minus: Sequence[str] = (),
        intersect: Sequence[str] = (),
    ) -> Dict[str, Any]:
        """``tagnet prefixes TAG… --format json``: the tags used and their prefixes."""
        return json.loads(
            self._native.prefixes_json(
                list(tags), region, family, aggregate, _strings(minus, "minus"),
                _strings(intersect, "intersect"),
            )
        )

    def lookup_report(self, *queries: str, region: Optional[str] = None) -> Dict[str, Any]:
        """``tagnet lookup ADDRESS|PREFIX… --format json``: ``{"snapshot", "records"}``."""
        return json.loads(self._native.lookup_json(list(queries), region))

    def check(
        self,
        documents: Any,
        *,
        parameters: Any = None,
        on_prem: Sequence[str] = (),
        profile: Optional[str] = None,
        udr_profile: Optional[str] = None,
        deny: Sequence[str] = (),
        warn: Sequence[str] = (),
        allow: Sequence[str] = (),
        location: Optional[str] = None,
        asgs: Optional[Dict[str, Sequence[str]]] = None,
    ) -> Dict[str, Any]:
        """``tagnet check --format json``: a network definition checked against the
        ML-in-a-VNet guidance.

        ``documents``: a path (file or folder) or a list of paths, read as the command reads
        them; or JSON (``az … show -o json`` output, an ARM template, a Terraform plan) as a
        dict, a list of documents, ``{"file name": document}``, JSON text or bytes.
        ``parameters``: an ARM parameters file as a dict, JSON text, bytes or a path.
        ``asgs``: application security group members, ``{"NAME": ["IP", …]}``, beside those
        the documents' NICs name.
        """
        raw, paths = _paths_or_json(documents, "documents")
        params = None if parameters is None else _nsg_bytes(parameters)
        return json.loads(
            self._native.check_json(
                raw, paths, params, _strings(on_prem, "on_prem"), profile, udr_profile,
                _strings(deny, "deny"), _strings(warn, "warn"), _strings(allow, "allow"), location,
                _asgs(asgs),
            )
        )

    def path(
        self,
        documents: Any,
        *,
        from_: str,
        to: Optional[str] = None,
        protocol: str = "tcp",
        port: Optional[int] = None,
        profile: Optional[str] = None,
        region: Optional[str] = None,
        bgp: Sequence[str] = (),
        asgs: Optional[Dict[str, Sequence[str]]] = None,
        parameters: Any = None,
        location: Optional[str] = None,
        effective_routes: Any = None,
    ) -> Dict[str, Any]:
        """``tagnet path --format json``: will a flow get there — routes and NSGs of a network
        definition evaluated together.

        ``documents`` as :meth:`check` takes them. ``from_``: a subnet (``VNET/SUBNET``) or an
        address; ``to``: ``IP``, ``IP:PORT`` or a service tag; or ``profile`` (every flow an NSG
        requirement profile needs, end to end). ``bgp``: ``PREFIX=VirtualNetworkGateway``.
        """
        if to is None and profile is None:
            raise TagnetError("give `to` (IP, IP:PORT or a service tag) or `profile`")
        raw, paths = _paths_or_json(documents, "documents")
        params = None if parameters is None else _nsg_bytes(parameters)
        return json.loads(
            self._native.path_json(
                raw, paths, params, str(from_), to or "", str(protocol), port,
                _strings(bgp, "bgp"), _asgs(asgs), profile, region, location,
                None if effective_routes is None else _nsg_bytes(effective_routes),
            )
        )

    def flows_verify(
        self,
        flow_logs: Any,
        *,
        nsg: Any = None,
        nic_nsg: Any = None,
        vnet: Sequence[str] = (),
        asgs: Optional[Dict[str, Sequence[str]]] = None,
        profile: Optional[str] = None,
        region: Optional[str] = None,
        all: bool = False,
        deny: Sequence[str] = (),
        warn: Sequence[str] = (),
        allow: Sequence[str] = (),
        skip_bad: bool = False,
        parameters: Any = None,
    ) -> Dict[str, Any]:
        """``tagnet flows verify --format json``: logged flows re-evaluated with the NSGs;
        each drift a finding (``drift``, ``severity``), with the ``summary`` counts.

        ``flow_logs``: a path (file or folder) or a list of paths, read as the command reads
        them; or blobs (``{"records": [...]}``) as a dict, a list, ``{"name": blob}``, JSON
        text or bytes. ``nsg``/``nic_nsg``: NSG JSON as a dict, text, bytes or a path.
        ``parameters``: an ARM parameters file (dict, text, bytes or a path) for NSGs given as
        templates, as ``--parameters FILE``.
        """
        raw, paths = _flow_logs(flow_logs)
        return json.loads(
            self._native.flows_verify_json(
                raw, paths,
                None if nsg is None else _nsg_bytes(nsg),
                None if nic_nsg is None else _nsg_bytes(nic_nsg),
                _strings(vnet, "vnet"), _asgs(asgs), profile, region, _flag(all, "all"),
                _strings(deny, "deny"), _strings(warn, "warn"), _strings(allow, "allow"), _flag(skip_bad, "skip_bad"),
                _parameters(parameters, nsg, nic_nsg),
            )
        )

    def diff(
        self,
        previous: "Index",
        *,
        tags: Sequence[str] = (),
        regions: Sequence[str] = (),
        services: Sequence[str] = (),
        route_table: Any = None,
        vnet: Sequence[str] = (),
        profile: Optional[str] = None,
        default_route: Optional[str] = None,
        prune: bool = False,
        deny: Sequence[str] = (),
        warn: Sequence[str] = (),
        allow: Sequence[str] = (),
        ipv6: bool = False,
        max_routes: Optional[int] = None,
    ) -> Dict[str, Any]:
        """``tagnet diff PREVIOUS THIS --format json``: what changed from ``previous`` (an
        earlier :class:`Index`) to this snapshot. With ``route_table`` (``az network route-table
        show`` output as a dict, JSON text, bytes or a path) and ``regions``, what the change
        means for it (``impact``)."""
        if not isinstance(previous, Index):
            raise TypeError("previous= is an Index (tagnet.load(...), tagnet.builtin())")
        return json.loads(
            self._native.diff_json(
                previous._native, _strings(tags, "tags"), _strings(regions, "regions"),
                _strings(services, "services"),
                None if route_table is None else _nsg_bytes(route_table),
                _strings(vnet, "vnet"), profile, default_route, _flag(prune, "prune"),
                _strings(deny, "deny"), _strings(warn, "warn"), _strings(allow, "allow"),
                _flag(ipv6, "ipv6"), _count(max_routes),
            )
        )

    def info_report(self) -> Dict[str, Any]:
        """``tagnet info --format json``: counts of tags, regions and prefixes; warnings."""
        return json.loads(self._native.info_json())

    def regions(self) -> Dict[str, Any]:
        """``tagnet regions --format json``: one record per region code."""
        return json.loads(self._native.regions_json())

    def flows_summary(
        self,
        flow_logs: Any,
        *,
        region: Optional[str] = None,
        profile: Optional[str] = None,
        top: int = 10,
        skip_bad: bool = False,
    ) -> Dict[str, Any]:
        """``tagnet flows attribute --summary --format json``: what the logs talked to, by
        class, service, region and decision, with the top talkers. ``flow_logs`` as for
        :meth:`flows_verify`; with ``profile`` and ``region``, whether each group is carried by
        the profile's routes."""
        raw, paths = _flow_logs(flow_logs)
        return json.loads(
            self._native.flows_summary_json(raw, paths, region, profile, _count(top), _flag(skip_bad, "skip_bad"))
        )

    def routes_audit(
        self,
        route_table: Union[str, bytes, "os.PathLike[str]", Dict[str, Any]],
        region: Union[str, Sequence[str]],
        *,
        paired: bool = False,
        profile: Optional[str] = None,
        tags: Sequence[str] = (),
        only_tags: Sequence[str] = (),
        vnet: Sequence[str] = (),
        ipv6: bool = False,
        default_route: Optional[str] = None,
        prune: bool = False,
        max_routes: Optional[int] = None,
        deny: Sequence[str] = (),
        warn: Sequence[str] = (),
        allow: Sequence[str] = (),
    ) -> Dict[str, Any]:
        """``tagnet routes audit --format json``: findings and the plan that fixes the table.

        ``route_table``: ``az network route-table show`` output, effective routes or an ARM
        template, as a dict, JSON text, bytes or a path.
        """
        raw = _nsg_bytes(route_table)
        regions = [region] if isinstance(region, str) else list(region)
        return json.loads(
            self._native.audit_json(
                raw, regions, paired, profile, _strings(tags, "tags"), _strings(only_tags, "only_tags"),
                _strings(vnet, "vnet"), ipv6, default_route, prune, _count(max_routes),
                _strings(deny, "deny"), _strings(warn, "warn"), _strings(allow, "allow"),
            )
        )

    def nsg_reach(
        self,
        nsg: Optional[Union[str, bytes, "os.PathLike[str]"]],
        direction: str,
        protocol: str,
        port: Optional[int] = None,
        *,
        nic_nsg: Optional[Union[str, bytes, "os.PathLike[str]"]] = None,
        vnet: Sequence[str] = (),
        asgs: Optional[Dict[str, Sequence[str]]] = None,
        local: Optional[str] = None,
        route_table: Any = None,
        parameters: Any = None,
    ) -> Dict[str, Any]:
        """``tagnet nsg reach --format json``: the exact remote addresses allowed. ``port`` is
        needed with Tcp and Udp (the local port inbound, the remote port outbound).
        ``parameters``: an ARM parameters file for NSGs given as templates."""
        return json.loads(
            self._native.reach_json(
                None if nsg is None else _nsg_bytes(nsg),
                None if nic_nsg is None else _nsg_bytes(nic_nsg),
                _strings(vnet, "vnet"), _asgs(asgs), direction, protocol, port, local,
                None if route_table is None else _nsg_bytes(route_table),
                _parameters(parameters, nsg, nic_nsg),
            )
        )

    def nsg_analyze(
        self,
        nsg: Union[str, bytes, "os.PathLike[str]"],
        *,
        vnet: Sequence[str] = (),
        asgs: Optional[Dict[str, Sequence[str]]] = None,
        deny: Sequence[str] = (),
        warn: Sequence[str] = (),
        allow: Sequence[str] = (),
        parameters: Any = None,
    ) -> Dict[str, Any]:
        """``tagnet nsg analyze --format json``: shadowed, redundant and overlapping rules.
        ``parameters``: an ARM parameters file for an NSG given as a template."""
        return json.loads(
            self._native.analyze_json(
                _nsg_bytes(nsg), None, _strings(vnet, "vnet"), _asgs(asgs),
                _strings(deny, "deny"), _strings(warn, "warn"), _strings(allow, "allow"),
                _parameters(parameters, nsg),
            )
        )

    def nsg_require(
        self,
        nsg: Optional[Union[str, bytes, "os.PathLike[str]"]],
        region: str,
        *,
        profile: Optional[str] = None,
        nic_nsg: Optional[Union[str, bytes, "os.PathLike[str]"]] = None,
        vnet: Sequence[str] = (),
        asgs: Optional[Dict[str, Sequence[str]]] = None,
        local: Optional[str] = None,
        route_table: Any = None,
        parameters: Any = None,
    ) -> Dict[str, Any]:
        """``tagnet nsg require --format json``: every required flow, met or not.
        ``parameters``: an ARM parameters file for NSGs given as templates."""
        return json.loads(
            self._native.require_json(
                None if nsg is None else _nsg_bytes(nsg),
                None if nic_nsg is None else _nsg_bytes(nic_nsg),
                _strings(vnet, "vnet"), _asgs(asgs), region, profile, local,
                None if route_table is None else _nsg_bytes(route_table),
                _parameters(parameters, nsg, nic_nsg),
            )
        )

    def nsg_verify(
        self,
        nsg: Union[str, bytes, "os.PathLike[str]"],
        flows: Union[pa.Table, Any],
        vnet: Iterable[str] = (),
        nic_nsg: Optional[Union[str, bytes, "os.PathLike[str]"]] = None,
        parameters: Any = None,
    ) -> pa.Table:
        """Verdicts of an NSG for a table of flows, as ``tagnet nsg verify`` gives them.

        ``nsg``: the NSG's JSON (``az network nsg show``), as text, bytes or a path.
        ``flows``: an Arrow table or pandas DataFrame with columns ``direction``
        (inbound/outbound), ``protocol`` (Tcp, Udp, Icmp, Esp, Ah, or IANA numbers),
        ``local_ip``, ``local_port``, ``remote_ip``, ``remote_port``.
        ``nic_nsg``: the NIC's NSG, evaluated after the subnet's inbound and before it
        outbound; with it, rules are named ``NSG securityRules/NAME``.
        ``parameters``: an ARM parameters file (dict, text, bytes or a path) for NSGs given as
        templates, as ``--parameters FILE``.
        Returns a table of ``access`` and ``rule`` (``securityRules/NAME``).
        """
        access, rule, _ = self._verify(nsg, flows, vnet, None, nic_nsg, parameters)
        return pa.table({"access": access, "rule": rule})

    def _verify(self, nsg, flows, vnet, logged, nic_nsg=None, parameters=None):
        """The native verify over a table: (access, rule, drift) arrays."""
        raw = _nsg_bytes(nsg)
        params_raw = _parameters(parameters, nsg, nic_nsg)
        nic_raw = None if nic_nsg is None else _nsg_bytes(nic_nsg)
        vnet = _strings(vnet, "vnet")
        if isinstance(flows, dict):
            flows = pa.table(flows)
        elif not isinstance(flows, pa.Table):
            flows = pa.Table.from_pandas(flows, preserve_index=False)
        need = ["direction", "protocol", "local_ip", "local_port", "remote_ip", "remote_port"]
        missing = [c for c in need if c not in flows.column_names]
        if missing:
            raise TagnetError(f"flows: missing columns {missing}; need {need}")
        direction = [str(d).strip().lower() for d in flows["direction"].to_pylist()]
        for i, d in enumerate(direction):
            if d not in ("inbound", "in", "outbound", "out"):
                raise TagnetError(f"row {i}: direction `{d}`: inbound or outbound")
        inbound = bytes(1 if d.startswith("in") else 0 for d in direction)
        names = {"tcp": 6, "udp": 17, "icmp": 1, "esp": 50, "ah": 51}
        proto = []
        for i, p in enumerate(flows["protocol"].to_pylist()):
            s = str(p).strip().lower()
            if s in names:
                proto.append(names[s])
            elif s.isdigit() and int(s) < 256:
                proto.append(int(s))
            else:
                raise TagnetError(f"row {i}: protocol `{p}`: Tcp, Udp, Icmp, Esp or Ah")

        def ports(col: str) -> bytes:
            try:
                a = flows[col].combine_chunks().cast(pa.uint16())
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError, OverflowError):
                raise TagnetError(f"{col}: ports are whole numbers 0-65535") from None
            if a.null_count:
                for i, (v, p) in enumerate(zip(a.to_pylist(), proto)):
                    if v is None and p in (6, 17):
                        raise TagnetError(
                            f"row {i}: a {'Tcp' if p == 6 else 'Udp'} flow needs both ports ({col} is null)"
                        )
                a = a.fill_null(0)
            return a.buffers()[1].to_pybytes()[a.offset * 2 : (a.offset + len(a)) * 2]

        access, rule, rule_names, drift, nsg_name = self._native.nsg_verify(
            raw,
            list(vnet),
            inbound,
            bytes(proto),
            [str(x) for x in flows["local_ip"].to_pylist()],
            ports("local_port"),
            [str(x) for x in flows["remote_ip"].to_pylist()],
            ports("remote_port"),
            logged,
            nic_raw,
            params_raw,
        )
        n = flows.num_rows
        acc = pa.Array.from_buffers(pa.uint8(), n, [None, pa.py_buffer(access)])
        r = _int32(rule)
        access_col = pc.take(pa.array(["Allow", "Deny"]), pc.if_else(pc.equal(acc, 255), None, acc))
        rule_col = pc.take(
            pa.array(rule_names, pa.string()), pc.if_else(pc.less(r, 0), None, r)
        )
        drift_col = None
        if drift is not None:
            d = pa.Array.from_buffers(pa.uint8(), n, [None, pa.py_buffer(drift)])
            drift_col = pc.take(pa.array(["", "flow-verdict-drift", "flow-rule-drift"]), d)
        return access_col, rule_col, drift_col


def _all_paths(items: Sequence[Any]) -> bool:
    """Whether every item is a path (not JSON text)."""
    return all(
        isinstance(d, os.PathLike) or (isinstance(d, str) and not d.lstrip().startswith(("{", "[")))
        for d in items
    )


def _paths_or_json(value: Any, name: str) -> Tuple[Optional[bytes], List[str]]:
    """Inputs given as a path or a list of paths (read by the library, as the command reads
    them), or as JSON (a dict, a list of documents, text or bytes): (JSON bytes, paths)."""
    if isinstance(value, (dict, bytes, bytearray)) or (
        isinstance(value, str) and value.lstrip().startswith(("{", "["))
    ):
        return _nsg_bytes(value), []
    if isinstance(value, (str, os.PathLike)):
        return None, [os.fspath(value)]
    if isinstance(value, list) and value and _all_paths(value):
        return None, [os.fspath(d) for d in value]
    if isinstance(value, list):
        return _nsg_bytes(value), []
    raise TypeError(f"{name}= takes a path, a list of paths, or JSON (dict, list, text, bytes)")


def _flow_logs(value: Any) -> Tuple[Optional[bytes], List[str]]:
    """Flow logs as paths or blobs (see :func:`_paths_or_json`)."""
    return _paths_or_json(value, "flow_logs")


def _is_path(doc) -> bool:
    """Whether a document argument names a file (not a dict, list, bytes or JSON text)."""
    if doc is None or isinstance(doc, (dict, list, bytes, bytearray)):
        return False
    return not (isinstance(doc, str) and doc.lstrip().startswith(("{", "[")))


def _parameters(parameters, *nsgs) -> Optional[bytes]:
    """The ARM parameters file for NSGs given as templates, as the commands take it:
    ``parameters`` (a dict, JSON text, bytes or a path), else the ``NAME.parameters*.json``
    beside an NSG template given by its path (several beside one, or different ones beside
    two, are refused: which one is deployed is not known)."""
    if parameters is not None:
        return _nsg_bytes(parameters)
    found = set()
    for n in nsgs:
        if _is_path(n):
            p = _tagnet.nsg_parameters_beside(os.fspath(n))
            if p is not None:
                found.add(os.path.normpath(p))
    if len(found) > 1:
        raise TagnetError(
            f"the NSG templates have different parameters files beside them ({', '.join(sorted(found))}); give parameters="
        )
    if found:
        with open(found.pop(), "rb") as f:
            return f.read()
    return None


def _nsg_bytes(nsg) -> bytes:
    """A JSON document given as a dict or list, JSON text, bytes or a path."""
    if isinstance(nsg, (dict, list)):
        return json.dumps(nsg).encode()
    if isinstance(nsg, (bytes, bytearray)):
        return bytes(nsg)
    if isinstance(nsg, str) and nsg.lstrip().startswith(("{", "[")):
        return nsg.encode()
    with open(os.fspath(nsg), "rb") as f:
        return f.read()


def verify_flows(
    index: Index,
    flows: pa.Table,
    nsg: Union[str, bytes, "os.PathLike[str]"],
    vnet: Iterable[str] = (),
    nic_nsg: Optional[Union[str, bytes, "os.PathLike[str]"]] = None,
) -> pa.Table:
    """A flow table (from :func:`read_flow_logs`) re-evaluated with an NSG (and the NIC's
    ``nic_nsg``), as ``tagnet flows verify --all`` does; drifts are derived by the library's
    rule, as the command derives them: ``verdict`` (Allow, Deny; null for protocols NSG rules cannot name),
    ``verdict_rule`` (``securityRules/NAME``) and ``drift`` (``flow-verdict-drift``,
    ``flow-rule-drift`` or empty) added."""
    proto = flows["protocol"]
    t = flows.select(["direction", "local_ip", "local_port", "remote_ip", "remote_port"]).append_column(
        "protocol", proto.cast(pa.int64()).cast(pa.string())
    )
    logged = (
        bytes(1 if a == "Deny" else 0 for a in flows["access"].to_pylist()),
        [r or "" for r in flows["rule"].to_pylist()],
    )
    access, rule, drift = index._verify(nsg, t, vnet, logged, nic_nsg)
    return (
        flows.append_column("verdict", access)
        .append_column("verdict_rule", rule)
        .append_column("drift", drift)
    )


def _ipv4(v: int) -> str:
    return ".".join(str((v >> s) & 255) for s in (24, 16, 8, 0))


_FLOW_COLUMNS = [
    ("time_ms", pa.uint64()),
    ("inbound", pa.uint8()),
    ("deny", pa.uint8()),
    ("protocol", pa.uint8()),
    ("src_port", pa.uint16()),
    ("dst_port", pa.uint16()),
    ("local_port", pa.uint16()),
    ("remote_port", pa.uint16()),
    ("packets", pa.uint64()),
    ("bytes", pa.uint64()),
    ("record", pa.uint64()),
]


def read_flow_logs(*paths: Union[str, "os.PathLike[str]"], skip_bad: bool = False) -> pa.Table:
    """Flow-log blobs (files or folders in the storage account's layout) as a table, one row
    per tuple: ``time``, ``direction``, ``access``, ``state``, ``protocol``, source,
    destination, local and remote addresses and ports, ``packets``, ``bytes``, the logged
    ``rule``, and the ``file`` and ``record`` it came from (``rule`` and ``file``
    dictionary-encoded). An unreadable tuple raises :class:`TagnetError` naming it, as the
    CLI refuses it; with ``skip_bad=True`` such tuples are skipped and listed in the table's
    metadata (``b"unreadable"``). The files are read in parallel, with the GIL released."""
    skip_bad = _flag(skip_bad, "skip_bad")
    cols, bad, files = _tagnet.read_flow_logs([os.fspath(p) for p in paths])
    if bad and not skip_bad:
        # As the CLI: an unreadable tuple is an error unless it is asked to be skipped.
        more = f" (and {len(bad) - 1} more)" if len(bad) > 1 else ""
        raise TagnetError(
            f"{bad[0]}{more}; pass skip_bad=True to read the rest and list these in the "
            "table's metadata (b\"unreadable\")"
        )
    out: Dict[str, pa.Array] = {}
    n = len(cols["time_ms"]) // 8
    if n == 0:
        detail = ("; " + bad[0]) if bad else ""
        raise TagnetError(
            "no readable flow tuple in " + ", ".join(os.fspath(p) for p in paths) + detail
        )

    def text(name: str) -> pa.Array:
        offsets, data = cols[name]
        arr = pa.Array.from_buffers(
            pa.large_string(), n, [None, pa.py_buffer(offsets), pa.py_buffer(data)]
        )
        # `string` (32-bit offsets) unless the column holds 2 GiB of text or more.
        return arr.cast(pa.string()) if len(data) < 2**31 else arr

    raw = {}
    for name, typ in _FLOW_COLUMNS:
        raw[name] = pa.Array.from_buffers(typ, n, [None, pa.py_buffer(cols[name])])
    inbound = raw["inbound"].cast(pa.bool_())
    out["time"] = raw["time_ms"].cast(pa.int64()).cast(pa.timestamp("ms", tz="UTC"))
    out["direction"] = pc.take(pa.array(["Outbound", "Inbound"]), raw["inbound"])
    out["access"] = pc.take(pa.array(["Allow", "Deny"]), raw["deny"])
    out["state"] = text("state")
    out["protocol"] = raw["protocol"]
    src, dst = text("src_ip"), text("dst_ip")
    ips = {
        "src": src,
        "dst": dst,
        "local": pc.if_else(inbound, dst, src),
        "remote": pc.if_else(inbound, src, dst),
    }
    for side in ("src", "dst", "local", "remote"):
        out[f"{side}_ip"] = ips[side]
        out[f"{side}_port"] = raw[f"{side}_port"]
    out["packets"] = raw["packets"]
    out["bytes"] = raw["bytes"]
    rule_idx, rule_names = cols["rule"]
    out["rule"] = pa.DictionaryArray.from_arrays(
        pa.Array.from_buffers(pa.int32(), n, [None, pa.py_buffer(rule_idx)]),
        pa.array(rule_names, pa.string()),
    )
    out["file"] = pa.DictionaryArray.from_arrays(
        pa.Array.from_buffers(pa.int32(), n, [None, pa.py_buffer(cols["file"])]),
        pa.array(files, pa.string()),
    )
    out["record"] = raw["record"]
    table = pa.table(out)
    return table.replace_schema_metadata({b"unreadable": "\n".join(bad).encode()})


def attribute_flows(index: Index, flows: pa.Table) -> pa.Table:
    """A flow table (from :func:`read_flow_logs`) with the remote address attributed:
    ``class``, ``service``, ``region``, ``tag``, ``prefix`` added."""
    a = index.attribute_arrow(flows["remote_ip"])
    for f in ATTRIBUTION_TYPE:
        flows = flows.append_column(f.name, a.field(f.name))
    return flows
