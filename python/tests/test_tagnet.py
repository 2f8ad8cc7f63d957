"""The Python package against an ipaddress oracle and against the CLI."""

import csv
import io
import ipaddress
import json
import os
import pathlib
import random
import subprocess
import warnings

import pyarrow as pa
import pytest

import tagnet
from conftest import ROOT, run, tagnet_binary


@pytest.fixture(scope="session")
def oracle():
    """Every (tag, prefix) of the built-in snapshot, from its JSON, with ipaddress."""
    doc = json.loads(tagnet.Index.builtin_bytes())
    nets = []
    for v in doc["values"]:
        for p in v["properties"]["addressPrefixes"]:
            nets.append((ipaddress.ip_network(p, strict=False), v["name"]))
    return nets


def sample_addresses(index, n, seed):
    """Addresses inside real prefixes (and their edges), private and random ones."""
    rng = random.Random(seed)
    prefixes = index._native.prefix_table()
    out = []
    for _ in range(n):
        roll = rng.random()
        if roll < 0.7:
            net = ipaddress.ip_network(rng.choice(prefixes))
            k = rng.choice([0, net.num_addresses - 1, rng.randrange(net.num_addresses)])
            out.append(str(net.network_address + k))
        elif roll < 0.85:
            out.append(str(ipaddress.IPv4Address(rng.getrandbits(32))))
        else:
            out.append(f"10.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(256)}")
    return out


def test_lookup_equals_the_oracle(index, oracle):
    for a in sample_addresses(index, 300, 1):
        ip = ipaddress.ip_address(a)
        want = sorted((name, str(net)) for net, name in oracle if net.version == ip.version and ip in net)
        got = sorted((m["tag"], m["prefix"]) for m in index.lookup(a))
        assert got == want, a


def test_bulk_equals_single(index):
    addrs = sample_addresses(index, 5000, 2) + ["2603:1000::1", "::1"]
    addrs[7] = None
    bulk = index.lookup_arrow(pa.array(addrs))
    assert bulk.type == pa.list_(tagnet.MATCH_TYPE)
    for a, got in zip(addrs, bulk.to_pylist()):
        if a is None:
            assert got is None
        else:
            assert got == index.lookup(a), a
    # The same through large strings, slices, chunked arrays, pandas, lists and uint32.
    large = index.lookup_arrow(pa.array(addrs, pa.large_string()))
    assert large.to_pylist() == bulk.to_pylist()
    sliced = index.lookup_arrow(pa.array(addrs)[100:200])
    assert sliced.to_pylist() == bulk.to_pylist()[100:200]
    chunked = index.lookup_arrow(pa.chunked_array([addrs[:10], addrs[10:30]]))
    assert chunked.to_pylist() == bulk.to_pylist()[:30]
    pd = pytest.importorskip("pandas")
    assert index.lookup_arrow(pd.Series(addrs[:50])).to_pylist() == bulk.to_pylist()[:50]
    v4 = [a for a in addrs[:1000] if a and ":" not in a]
    ints = pa.array([int(ipaddress.IPv4Address(a)) for a in v4], pa.uint32())
    assert index.lookup_arrow(ints).to_pylist() == index.lookup_arrow(v4).to_pylist()
    np = pytest.importorskip("numpy")
    as_np = np.array([int(ipaddress.IPv4Address(a)) for a in v4], dtype=np.uint32)
    assert index.lookup_arrow(as_np).to_pylist() == index.lookup_arrow(v4).to_pylist()


def test_errors_name_the_row(index):
    with pytest.raises(tagnet.TagnetError, match=r"row 1: `1.2.3.999` is not an IP address"):
        index.lookup_arrow(["1.2.3.4", "1.2.3.999"])
    assert index.lookup_arrow(["1.2.3.4", "x"], errors="null").to_pylist()[1] is None
    with pytest.raises(tagnet.TagnetError, match="not an IP address"):
        index.lookup("nope")
    with pytest.raises(TypeError, match="strings"):
        index.lookup_arrow(pa.array([1.5]))
    with pytest.raises(tagnet.TagnetError):
        tagnet.Index.from_bytes(b"{not json")
    with pytest.raises(tagnet.TagnetError, match="unknown profile"):
        index.udr("westeurope", profile="nope")
    assert isinstance(tagnet.TagnetError("x"), ValueError)


def test_snapshot_from_bytes_equals_builtin(index):
    other = tagnet.Index.from_bytes(tagnet.Index.builtin_bytes())
    assert other.info == index.info
    a = sample_addresses(index, 200, 3)
    assert other.lookup_arrow(a).to_pylist() == index.lookup_arrow(a).to_pylist()


def test_udr_equals_the_cli(index):
    r = run("udr", "--region", "westeurope", "--format", "json")
    assert r.returncode == 0, r.stderr
    cli = json.loads(r.stdout)
    routes = cli["routes"] if isinstance(cli, dict) else cli
    got = index.udr("westeurope")
    assert [x["address_prefix"] for x in got] == [x["address_prefix"] for x in routes]
    assert [x["name"] for x in got] == [x["name"] for x in routes]
    # The CLI's JSON field name, and the older one kept beside it.
    assert [x["next_hop_type"] for x in got] == [x["next_hop_type"] for x in routes]
    assert all(x["next_hop"] == x["next_hop_type"] for x in got)


NSG = {
    "name": "ml-nsg",
    "securityRules": [
        {"name": "AllowBatch", "properties": {"priority": 100, "direction": "Inbound", "access": "Allow",
         "protocol": "Tcp", "sourceAddressPrefix": "BatchNodeManagement", "sourcePortRange": "*",
         "destinationAddressPrefix": "*", "destinationPortRange": "29876-29877"}},
        {"name": "DenyStorage", "properties": {"priority": 200, "direction": "Outbound", "access": "Deny",
         "protocol": "*", "sourceAddressPrefix": "*", "sourcePortRange": "*",
         "destinationAddressPrefix": "Storage.WestEurope", "destinationPortRange": "443"}},
    ],
}


def test_nsg_verify_equals_the_cli(index, tmp_path):
    nsg = tmp_path / "nsg.json"
    nsg.write_text(json.dumps(NSG))
    rng = random.Random(4)
    rows = []
    for a in sample_addresses(index, 400, 5):
        if ":" in a:
            continue
        rows.append({
            "direction": rng.choice(["inbound", "outbound"]),
            "protocol": rng.choice(["Tcp", "Udp", "Icmp"]),
            "local_ip": "10.0.0.4",
            "local_port": rng.choice([29876, 29877, 22, 50000]),
            "remote_ip": a,
            "remote_port": rng.choice([443, 80, 40000]),
        })
    flows = pa.Table.from_pylist(rows)
    got = index.nsg_verify(nsg, flows, vnet=["10.0.0.0/16"]).to_pylist()
    lines = "\n".join(
        f'{r["direction"]},{r["protocol"]},{r["local_ip"]},{r["local_port"]},{r["remote_ip"]},{r["remote_port"]}'
        for r in rows
    )
    f = tmp_path / "flows.csv"
    f.write_text(lines + "\n")
    r = run("nsg", "verify", "--nsg", str(nsg), "--vnet", "10.0.0.0/16", "--flows", str(f), "--format", "csv")
    assert r.returncode in (0, 1), r.stderr
    cli = list(csv.DictReader(io.StringIO(r.stdout)))
    assert len(cli) == len(got)
    for c, g in zip(cli, got):
        assert (c["access"], c["rule"]) == (g["access"], g["rule"] or "")
    assert {g["access"] for g in got} == {"Allow", "Deny"}


def attribution_of_cli(paths):
    r = run("flows", "attribute", *map(str, paths), "--format", "csv")
    assert r.returncode == 0, r.stderr
    return list(csv.DictReader(io.StringIO(r.stdout)))


def test_flow_logs_attributed_as_the_cli_does(index, flow_dir):
    for kind in ("vnet", "nsg-v2"):
        table = tagnet.attribute_flows(index, tagnet.read_flow_logs(flow_dir / kind))
        cli = attribution_of_cli([flow_dir / kind])
        assert table.num_rows == len(cli) > 10000
        py = table.to_pylist()
        for c, p in zip(cli, py):
            assert c["remote_ip"] == p["remote_ip"]
            assert c["direction"] == p["direction"] and c["access"] == p["access"]
            assert (c["class"], c["service"], c["region"], c["tag"], c["prefix"]) == (
                p["class"], p["service"] or "", p["region"] or "", p["tag"] or "", p["prefix"] or ""
            ), c
            assert int(c["bytes"]) == p["bytes"]
            # Every column the CLI prints, read the same (the native reader fills them in
            # parallel, one file a thread, and joins them in input order).
            assert c["time"] == p["time"].strftime("%Y-%m-%dT%H:%M:%S.") + f"{p['time'].microsecond // 1000:03d}Z"
            assert (c["state"], c["local_ip"], int(c["local_port"]), int(c["remote_port"]), int(c["packets"])) == (
                p["state"], p["local_ip"], p["local_port"], p["remote_port"], p["packets"]
            ), c
        assert {p["class"] for p in py} == {"azure", "private", "internet"}
        # src/dst are the logged order; local/remote follow the direction.
        for p in py[:2000]:
            inbound = p["direction"] == "Inbound"
            assert (p["local_ip"], p["remote_ip"]) == ((p["dst_ip"], p["src_ip"]) if inbound else (p["src_ip"], p["dst_ip"]))


def test_unreadable_tuples_are_listed(tmp_path):
    blob = {"records": [{"time": "t", "flowLogVersion": 4, "flowRecords": {"flows": [{"aclID": "a", "flowGroups": [
        {"rule": "r", "flowTuples": ["1663146003599,10.0.0.6,192.0.2.180,23956,443,6,O,B,NX,0,0,0,0", "bad"]}]}]}}]}
    p = tmp_path / "PT1H.json"
    p.write_text(json.dumps(blob))
    # As the CLI: an unreadable tuple is an error, unless skipped on purpose.
    with pytest.raises(tagnet.TagnetError, match="records\\[0\\], tuple 1.*skip_bad=True"):
        tagnet.read_flow_logs(p)
    t = tagnet.read_flow_logs(p, skip_bad=True)
    assert t.num_rows == 1
    assert b"records[0], tuple 1" in t.schema.metadata[b"unreadable"]
    with pytest.raises(tagnet.TagnetError, match="cannot read"):
        tagnet.read_flow_logs(tmp_path / "missing")


def verify_rows_of_cli(paths, nsg):
    r = run("flows", "verify", *map(str, paths), "--nsg", str(nsg), "--vnet", "10.0.0.0/16", "--format", "csv")
    assert r.returncode in (0, 1), r.stderr
    return list(csv.DictReader(io.StringIO(r.stdout)))


def drift_key(drift, direction, local_ip, local_port, remote_ip, remote_port, logged_rule, rule):
    # The CLI names the rule with its NSG (`ml-nsg securityRules/X`).
    return (drift, direction, local_ip, int(local_port), remote_ip, int(remote_port), logged_rule,
            (rule or "").split(" ")[-1])


@pytest.fixture(scope="session")
def nsg_file(tmp_path_factory):
    p = tmp_path_factory.mktemp("nsg") / "nsg.json"
    p.write_text(json.dumps(NSG))
    return p


def test_flow_logs_verified_as_the_cli_does(index, flow_dir, nsg_file):
    from collections import Counter

    for kind in ("vnet", "nsg-v2"):
        t = tagnet.verify_flows(index, tagnet.read_flow_logs(flow_dir / kind), nsg_file, vnet=["10.0.0.0/16"])
        got = Counter(
            drift_key(r["drift"], r["direction"], r["local_ip"], r["local_port"], r["remote_ip"],
                      r["remote_port"], r["rule"], r["verdict_rule"])
            for r in t.to_pylist() if r["drift"]
        )
        cli = verify_rows_of_cli([flow_dir / kind], nsg_file)
        want = Counter(
            drift_key(c["drift"], c["direction"], c["local_ip"], c["local_port"], c["remote_ip"],
                      c["remote_port"], c["logged_rule"], c["rule"])
            for c in cli
        )
        assert sum(want.values()) > 100
        assert {k[0] for k in want} == {"flow-verdict-drift"}
        assert got == want


def test_nsg_reading_warnings_reach_python(index):
    """An NSG Azure would refuse (one rule name twice) is answered, with the warning the CLI
    prints: in the JSON reports and as a Python warning from the columnar verify."""
    import copy
    import warnings as _warnings

    twice = copy.deepcopy(NSG)
    again = copy.deepcopy(twice["securityRules"][0])
    again["properties"]["priority"] = 300
    twice["securityRules"].append(again)
    text = json.dumps(twice)
    assert "warnings" not in index.nsg_analyze(json.dumps(NSG), vnet=["10.0.0.0/16"])
    got = index.nsg_analyze(text, vnet=["10.0.0.0/16"])
    assert any("AllowBatch" in w for w in got["warnings"]), got
    flows = pa.Table.from_pylist([{
        "direction": "inbound", "protocol": "Tcp", "local_ip": "10.0.0.4", "local_port": 29876,
        "remote_ip": "10.0.1.4", "remote_port": 40000}])
    with _warnings.catch_warnings(record=True) as caught:
        _warnings.simplefilter("always")
        out = index.nsg_verify(text, flows, vnet=["10.0.0.0/16"]).to_pylist()
    assert out[0]["access"] == "Allow"
    assert any("AllowBatch" in str(w.message) for w in caught), [str(w.message) for w in caught]


def test_path_equals_the_cli(index):
    """``Index.path`` answers as ``tagnet path --format json`` for an address and a profile."""
    net = pathlib.Path(__file__).resolve().parents[2] / "data" / "examples" / "missing-route"
    for kwargs, args in [
        ({"to": "192.0.2.9:443"}, ["--to", "192.0.2.9:443"]),
        ({"profile": "aml-vnet-2020"}, ["--profile", "aml-vnet-2020"]),
    ]:
        got = index.path(str(net), from_="vnet-ml/compute", **kwargs)
        r = run("path", str(net), "--from", "vnet-ml/compute", *args, "--format", "json")
        assert r.returncode in (0, 1), r.stderr
        cli = json.loads(r.stdout)
        for d in (got, cli):
            d.pop("snapshot")
            d.pop("notes", None)
        assert got == cli
    with pytest.raises(tagnet.TagnetError):
        index.path(str(net), from_="vnet-ml/compute")
    with pytest.raises(tagnet.TagnetError):
        index.path(str(net), from_="nowhere", to="192.0.2.9:443")


def test_route_table_readings_equal_the_cli(index, tmp_path):
    """``route_table=`` on ``nsg_reach`` answers as ``nsg reach --route-table``."""
    nsg = tmp_path / "nsg.json"
    nsg.write_text(json.dumps({"name": "n", "securityRules": []}))
    rt = {"name": "rt", "routes": [{"name": "fw", "addressPrefix": "0.0.0.0/0",
                                    "nextHopType": "VirtualAppliance", "nextHopIpAddress": "10.0.0.4"}]}
    (tmp_path / "rt.json").write_text(json.dumps(rt))
    got = index.nsg_reach(str(nsg), "inbound", "tcp", 22, vnet=["10.1.0.0/16"], route_table=rt)
    r = run("nsg", "reach", "--nsg", str(nsg), "--vnet", "10.1.0.0/16", "--direction", "inbound",
            "--protocol", "tcp", "--port", "22", "--route-table", str(tmp_path / "rt.json"),
            "--format", "json")
    assert r.returncode == 0, r.stderr
    cli = json.loads(r.stdout)
    assert got["prefixes"] == cli["prefixes"]
    assert got["readings"] == cli["readings"] and got["readings"]
    plain = index.nsg_reach(str(nsg), "inbound", "tcp", 22, vnet=["10.1.0.0/16"])
    assert "readings" not in plain and plain["prefixes"] != got["prefixes"]


def test_nsg_templates_take_parameters_as_the_cli(index, tmp_path):
    """``parameters=`` evaluates an NSG template as ``--parameters FILE`` does; without it a
    parameter with no value is refused, as the command refuses it."""
    template = {
        "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
        "contentVersion": "1.0.0.0",
        "parameters": {"ssh": {"type": "string"}},
        "resources": [{"type": "Microsoft.Network/networkSecurityGroups", "apiVersion": "2023-04-01",
                       "name": "n", "properties": {"securityRules": [
                           {"name": "AllowSSH", "properties": {
                               "priority": 100, "direction": "Inbound", "access": "Allow", "protocol": "Tcp",
                               "sourceAddressPrefix": "[parameters('ssh')]", "sourcePortRange": "*",
                               "destinationAddressPrefix": "*", "destinationPortRange": "22"}}]}}],
    }
    params = {"parameters": {"ssh": {"value": "192.0.2.0/24"}}}
    (tmp_path / "nsg.json").write_text(json.dumps(template))
    (tmp_path / "p.json").write_text(json.dumps(params))
    got = index.nsg_reach(template, "inbound", "tcp", 22, vnet=["10.1.0.0/16"], parameters=params)
    r = run("nsg", "reach", "--nsg", str(tmp_path / "nsg.json"), "--parameters", str(tmp_path / "p.json"),
            "--vnet", "10.1.0.0/16", "--direction", "inbound", "--protocol", "tcp", "--port", "22",
            "--format", "json")
    assert r.returncode == 0, r.stderr
    assert got["prefixes"] == json.loads(r.stdout)["prefixes"]
    assert any(p["prefix"] == "192.0.2.0/24" for p in got["prefixes"])
    flows = pa.table({"direction": ["inbound"], "protocol": ["tcp"], "local_ip": ["10.1.0.4"],
                      "local_port": [22], "remote_ip": ["192.0.2.9"], "remote_port": [5000]})
    verdict = index.nsg_verify(template, flows, vnet=["10.1.0.0/16"], parameters=str(tmp_path / "p.json"))
    assert verdict["access"].to_pylist() == ["Allow"]
    assert index.nsg_analyze(template, parameters=params)["records"] is not None
    with pytest.raises(tagnet.TagnetError, match="ssh"):
        index.nsg_reach(template, "inbound", "tcp", 22, vnet=["10.1.0.0/16"])
    # A template given by its path takes the parameters file beside it, as the command does.
    (tmp_path / "nsg.parameters.json").write_text(json.dumps(params))
    beside = index.nsg_reach(str(tmp_path / "nsg.json"), "inbound", "tcp", 22, vnet=["10.1.0.0/16"])
    r = run("nsg", "reach", "--nsg", str(tmp_path / "nsg.json"), "--vnet", "10.1.0.0/16",
            "--direction", "inbound", "--protocol", "tcp", "--port", "22", "--format", "json")
    assert r.returncode == 0, r.stderr
    assert beside["prefixes"] == json.loads(r.stdout)["prefixes"] == got["prefixes"]
    (tmp_path / "nsg.parameters.prod.json").write_text(json.dumps(params))
    with pytest.raises(tagnet.TagnetError, match="--parameters|parameters="):
        index.nsg_reach(str(tmp_path / "nsg.json"), "inbound", "tcp", 22)


def test_lookup_records_are_the_clis(index):
    """`Index.lookup` gives the records of `tagnet lookup --format json`, keys spelled alike."""
    for a in ("20.38.98.100", "13.66.141.155", "2603:1030:10::1", "10.0.0.4"):
        r = run("--tags", "builtin", "lookup", a, "--format", "json")
        assert r.returncode in (0, 1), r.stderr
        cli = json.loads(r.stdout)["records"][0]["matches"]
        assert index.lookup(a) == cli, a
    assert [f.name for f in tagnet.MATCH_TYPE] == ["tag", "region", "system_service", "prefix"]


def test_sources_and_custom_tags_answer_as_the_cli(tmp_path, monkeypatch):
    """Other providers' ranges and custom tags, given as the CLI's --source and --custom take
    them (or by TAGNET_SOURCES / TAGNET_CUSTOM), give the CLI's records, `provider` included."""
    aws = tmp_path / "ip-ranges.json"
    aws.write_text(json.dumps({"syncToken": "1", "createDate": "2026-01-01-00-00-00", "prefixes": [
        {"ip_prefix": "52.95.110.0/24", "region": "eu-west-1", "service": "S3",
         "network_border_group": "eu-west-1"}]}))
    corp = tmp_path / "corp.csv"
    corp.write_text("name,prefix\nCorp.OnPrem,10.50.0.0/16\n")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ix = tagnet.Index.open("builtin", sources=[str(aws)], custom=[corp])
        monkeypatch.setenv("TAGNET_SOURCES", str(aws))
        monkeypatch.setenv("TAGNET_CUSTOM", str(corp))
        by_env = tagnet.Index.open("builtin")
    for a in ("52.95.110.9", "10.50.0.1", "20.38.98.100"):
        r = run("--tags", "builtin", "--source", str(aws), "--custom", str(corp), "lookup", a,
                "--format", "json")
        assert r.returncode in (0, 1), r.stderr
        cli = json.loads(r.stdout)["records"][0]["matches"]
        assert ix.lookup(a) == cli == by_env.lookup(a), a
    assert ix.lookup("52.95.110.9")[0]["provider"] == "AWS"
    assert ix.lookup("10.50.0.1") == [{"tag": "Corp.OnPrem", "region": "", "system_service": "",
                                       "provider": "Custom", "prefix": "10.50.0.0/16"}]
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"Storage": ["10.0.0.0/8"]}))
    with pytest.raises(tagnet.TagnetError, match="collides with Microsoft's tag `Storage`"):
        tagnet.Index.open("builtin", custom=[bad])


def test_unordered_and_narrow_inputs_are_refused(index, tmp_path):
    import numpy as np
    with pytest.raises(TypeError, match="not one memoryview"):
        index.lookup_arrow(memoryview(b"20.38.98.100"))
    with pytest.raises(TypeError, match="order is undefined"):
        index.lookup_arrow({"20.38.98.100", "10.0.0.4"})
    with pytest.raises(TypeError, match="uint8 integers are not IPv4"):
        index.lookup_arrow(np.array([20, 38], dtype=np.uint8))
    with pytest.raises(TypeError, match="vnet"):
        index.nsg_verify('{"name": "n", "securityRules": []}', pa.table({
            "direction": ["Inbound"], "protocol": ["Tcp"], "local_ip": ["10.0.0.4"], "local_port": [443],
            "remote_ip": ["192.0.2.1"], "remote_port": [5000]}), vnet="10.0.0.0/16")
    with pytest.raises(tagnet.TagnetError, match="is a prefix.*lookup_report"):
        index.lookup("13.66.140.0/24")
    # uint32 stays an address; a wider integer type is taken when its values fit.
    assert len(index.lookup_arrow(np.array([0x14266264], dtype=np.uint32))[0]) > 0
    assert len(index.lookup_arrow(np.array([0x14266264], dtype=np.int64))[0]) > 0


def test_an_older_snapshot_than_the_builtin_warns(tmp_path, monkeypatch):
    example = ROOT / "data" / "example" / "ServiceTags_Example.json"
    with pytest.warns(tagnet.StaleSnapshotWarning, match="older than the one built into tagnet") as w:
        tagnet.Index.load(example)
    # Spelled for Python, not as the CLI's flag.
    assert all("--tags" not in str(x.message) for x in w), [str(x.message) for x in w]
    assert any("Index.builtin()" in str(x.message) for x in w)
    with pytest.warns(tagnet.StaleSnapshotWarning, match="older than the one built into tagnet"):
        tagnet.Index.from_bytes(example.read_bytes())


def test_narrow_and_mixed_inputs_are_type_errors(index):
    import array
    import numpy as np
    for code in "bBhH":
        with pytest.raises(TypeError, match="not IPv4 addresses"):
            index.lookup_arrow(array.array(code, [20, 38]))
    with pytest.raises(TypeError, match="every value a string"):
        index.lookup_arrow(["1.2.3.4", 5])
    with pytest.raises(TypeError, match="must be strings"):
        index.lookup_arrow(np.array([1.5, 2.5]))
    assert len(index.lookup_arrow(array.array("I", [0x14266264]))[0]) > 0


def test_strings_are_refused_where_arrays_are_expected(index):
    with pytest.raises(TypeError, match="not one str"):
        index.lookup_arrow("20.38.98.100")
    with pytest.raises(TypeError, match="not one bytes"):
        index.attribute_arrow(b"20.38.98.100")
    with pytest.raises(TypeError, match="lookup_arrow"):
        index.lookup(["20.38.98.100"])


def test_version_is_the_clis():
    r = run("--version")
    assert r.stdout.split()[1] == tagnet.__version__, r.stdout


def test_open_resolves_as_the_cli_does(tmp_path, monkeypatch):
    """`Index.open()` takes TAGNET_TAGS, then the cache, then the built-in snapshot, and
    names the snapshot as `tagnet info` does under the same environment."""
    example = ROOT / "data" / "example" / "ServiceTags_Example.json"
    monkeypatch.setenv("TAGNET_CACHE", str(tmp_path / "empty-cache"))
    for env in (str(example), ""):
        monkeypatch.setenv("TAGNET_TAGS", env)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", tagnet.StaleSnapshotWarning)
            got = tagnet.Index.open()
        r = subprocess.run([tagnet_binary(), "--quiet", "info", "--format", "json"],
                           capture_output=True, text=True, env=dict(os.environ), check=False)
        assert r.returncode == 0, r.stderr
        cli = json.loads(r.stdout)
        assert got.info_report()["snapshot"] == cli["snapshot"], env
        assert got.info["change_number"] == cli["snapshot"]["change_number"]
    with pytest.raises(tagnet.TagnetError, match="cn999"):
        tagnet.Index.open("cn999")


def test_an_old_snapshot_warns_as_the_cli_does():
    with pytest.warns(tagnet.StaleSnapshotWarning, match=r"days ago; service tags change weekly"):
        tagnet.Index.builtin()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        # Bytes carry no date: nothing to warn about.
        tagnet.Index.from_bytes(tagnet.Index.builtin_bytes())
