"""Pure-Python service-tag lookup and attribution: ``ipaddress`` to parse, ``bisect`` to
search sorted network lists, one list per prefix length. The baseline of the benchmarks,
with the same answers as tagnet (the benchmarks check)."""

import bisect
import ipaddress
import json


# Not the Internet, as tagnet counts it.
_PRIVATE = {
    4: [ipaddress.ip_network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "127.0.0.0/8",
        "169.254.0.0/16", "224.0.0.0/4", "0.0.0.0/32", "255.255.255.255/32", "100.64.0.0/10", "168.63.129.16/32")],
    6: [ipaddress.ip_network(n) for n in ("::1/128", "::/128", "ff00::/8", "fc00::/7", "fe80::/10")],
}


class PureIndex:
    def __init__(self, snapshot_json: bytes, tag_names, tag_regions, tag_services):
        doc = json.loads(snapshot_json)
        self.id_of = {n: i for i, n in enumerate(tag_names)}
        self.regions = tag_regions
        self.names = tag_names
        # The attribution's ranking, as tagnet computes it.
        self.rank = []
        self.service = []
        for n, r, s in zip(tag_names, tag_regions, tag_services):
            base = n.split(".")[0]
            self.rank.append(2 * int(bool(s) and base != "AzureCloud") + int(bool(r)))
            self.service.append(s if s else base)
        by_len = {4: {}, 6: {}}
        for v in doc["values"]:
            tid = self.id_of[v["name"]]
            for p in v["properties"]["addressPrefixes"]:
                net = ipaddress.ip_network(p, strict=False)
                d = by_len[net.version].setdefault(net.prefixlen, {})
                d.setdefault(int(net.network_address), []).append((tid, str(net)))
        self.tables = {}
        for ver, lens in by_len.items():
            bits = 32 if ver == 4 else 128
            t = []
            for plen in sorted(lens):
                starts = sorted(lens[plen])
                t.append((plen, bits - plen, starts, [lens[plen][s] for s in starts]))
            self.tables[ver] = t

    def lookup(self, text: str):
        ip = ipaddress.ip_address(text)
        x = int(ip)
        out = []
        for plen, shift, starts, values in self.tables[ip.version]:
            key = (x >> shift) << shift
            i = bisect.bisect_left(starts, key)
            if i < len(starts) and starts[i] == key:
                out.extend(values[i])
        return out

    def attribute(self, text: str):
        ip = ipaddress.ip_address(text)
        matches = self.lookup(text)
        if not matches:
            private = any(ip in n for n in _PRIVATE[ip.version])
            return ("private" if private else "internet", None, None, None, None)
        def plen(p):
            return int(p.split("/")[1])
        best = max(matches, key=lambda m: (self.rank[m[0]], plen(m[1]), -m[0]))
        tid, prefix = best
        if self.regions[tid]:
            region = self.regions[tid]
        else:
            regional = [m for m in matches if self.regions[m[0]]]
            region = self.regions[max(regional, key=lambda m: (plen(m[1]), -m[0]))[0]] if regional else ""
        return ("azure", self.service[tid], region or None, self.names[tid], prefix)
