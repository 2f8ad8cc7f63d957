"""One engine, three front ends: the Python package answers as the CLI's `--format json` does
(the server is held to the CLI by the Rust parity tests) — on random requests over the built-in
snapshot, refusals included, which carry the same message with the fields spelled as keyword
arguments (`max_routes=` for `--max-routes`)."""

import json
import warnings
import random
import re

import pytest

import tagnet
from conftest import run

REGIONS = ["eastus2", "East US 2", "westeurope", "francecentral", "uksouth", "brazilsoutheast", "atlantis"]


def normalize(msg: str) -> str:
    """A message with request fields in one spelling: `--max-routes` and `max_routes=` both
    become max_routes."""
    msg = msg.replace("`", "")
    msg = re.sub(r"--([a-z][a-z0-9-]*)", lambda m: m.group(1).replace("-", "_"), msg)
    return re.sub(r"\b([a-z0-9_]+)=(?=[\s:/,.;]|$)", r"\1", msg)


def cli(*args: str):
    """("doc", JSON) or ("refused", message) from the CLI on the built-in snapshot."""
    r = run("--tags", "builtin", "--format", "json", *args)
    if r.stdout:
        return ("doc", json.loads(r.stdout))
    assert r.returncode in (1, 2), r.stderr
    line = next(l for l in r.stderr.splitlines() if l.startswith("tagnet: ") and not l.startswith("tagnet: note:"))
    return ("refused", normalize(line.removeprefix("tagnet: ").removeprefix("error: ")))


def py(fn, *args, **kwargs):
    try:
        return ("doc", fn(*args, **kwargs))
    except tagnet.TagnetError as e:
        return ("refused", normalize(str(e).splitlines()[0]))


@pytest.mark.parametrize("seed", range(20))
def test_udr_is_the_same_answer(index, seed):
    rng = random.Random(seed)
    regions = rng.sample(REGIONS, rng.randint(1, 2))
    kw, args = {}, ["udr", "--region", ",".join(regions)]
    for flag in ("paired", "ipv6", "exact"):
        if rng.random() < 0.4:
            kw[flag] = True
            args.append(f"--{flag}")
    profile = rng.choice([None, "aml-vnet-2020", "aml-vnet-2023", "batch-classic"])
    if profile:
        kw["profile"] = profile
        args += ["--profile", profile]
    if rng.random() < 0.3:
        kw["tags"] = ["Storage"]
        args += ["--tag", "Storage"]
    hop, ip = rng.choice([("Internet", None), ("VirtualAppliance", "10.0.0.4"), ("VirtualAppliance", "fd00::4"),
                          ("VirtualNetworkGateway", None), ("Internet", "10.0.0.4")])
    kw["next_hop"] = hop
    args += ["--next-hop", hop]
    if ip:
        kw["next_hop_ip"] = ip
        args += ["--next-hop-ip", ip]
    kw["max_routes"] = rng.choice([0, 1, 5, 40, 400])
    kw["reserve"] = rng.choice([0, 1, 3, 40])
    args += ["--max-routes", str(kw["max_routes"]), "--reserve", str(kw["reserve"])]
    if rng.random() < 0.4:
        kw["max_extra"] = rng.choice([0, 255, 10**6])
        args += ["--max-extra", str(kw["max_extra"])]
    if kw.get("ipv6") and rng.random() < 0.5:
        kw["ipv6_shares_budget"] = True
        args.append("--ipv6-shares-budget")
    assert py(index.udr_report, regions, **kw) == cli(*args), args


def test_max_extra_is_never_clamped(index):
    with pytest.raises(ValueError, match=r"max_extra= takes a number of addresses"):
        index.udr_report("eastus2", max_extra=-1)


@pytest.mark.parametrize("seed", range(12))
def test_tags_prefixes_and_lookups_are_the_same_answer(index, seed):
    rng = random.Random(1000 + seed)
    region = rng.choice([None, *REGIONS])
    name = rng.choice([None, "Storage*", "*.EastUS2", "x"])
    args = ["tags"] + (["--region", region] if region else []) + (["--name", name] if name else [])
    assert py(index.tags, region=region, name=name) == cli(*args), args

    tag = rng.choice(["Storage", "AzureMachineLearning", "BatchNodeManagement.EastUS2", "Storag"])
    family = rng.choice(["any", "ipv4", "ipv6"])
    aggregate = rng.random() < 0.5
    args = ["prefixes", tag] + (["--region", region] if region else [])
    args += {"any": [], "ipv4": ["-4"], "ipv6": ["-6"]}[family] + (["--aggregate"] if aggregate else [])
    assert py(index.prefixes, tag, region=region, family=family, aggregate=aggregate) == cli(*args), args

    prefixes = index._native.prefix_table()
    queries = [rng.choice(prefixes).split("/")[0] for _ in range(3)] + ["198.51.100.7"]
    args = ["lookup", *queries] + (["--region", region] if region else [])
    assert py(index.lookup_report, *queries, region=region) == cli(*args), args


def test_a_lone_string_is_refused_where_a_list_is_expected(index):
    with pytest.raises(TypeError, match=r"tags= takes a list"):
        index.udr_report("eastus2", tags="Storage")


def test_an_appliance_of_the_other_family_is_refused_as_the_cli_refuses_it(index):
    got = py(index.udr_report, "eastus2", next_hop="VirtualAppliance", next_hop_ip="fd00::4")
    assert got == cli("udr", "--region", "eastus2", "--next-hop", "VirtualAppliance", "--next-hop-ip", "fd00::4")
    assert got[0] == "refused" and "next_hop_ip fd00::4 is IPv6" in got[1]


NSG = {"name": "nsg-aml", "securityRules": [
    {"name": "AllowBatchNodeManagement", "priority": 100, "direction": "Inbound", "access": "Allow", "protocol": "Tcp",
     "sourceAddressPrefix": "BatchNodeManagement.EastUS2", "sourcePortRange": "*", "destinationAddressPrefix": "VirtualNetwork",
     "destinationPortRange": "29876-29877"},
    {"name": "AllowWeb", "priority": 120, "direction": "Outbound", "access": "Allow", "protocol": "Tcp",
     "sourceApplicationSecurityGroups": [{"id": "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/applicationSecurityGroups/web"}],
     "sourcePortRange": "*", "destinationAddressPrefix": "AzureCloud", "destinationPortRange": "80-443"},
    {"name": "DenyInternet", "priority": 4000, "direction": "Outbound", "access": "Deny", "protocol": "*",
     "sourceAddressPrefix": "*", "sourcePortRange": "*", "destinationAddressPrefix": "Internet", "destinationPortRange": "*"},
]}


@pytest.mark.parametrize("seed", range(10))
def test_nsg_reach_and_require_are_the_same_answer(index, tmp_path, seed):
    rng = random.Random(2000 + seed)
    nsg = tmp_path / "nsg.json"
    nsg.write_text(json.dumps(NSG))
    scope = ["--nsg", str(nsg), "--vnet", "10.0.0.0/16", "--asg", "web=10.0.1.10"]
    kw = dict(vnet=["10.0.0.0/16"], asgs={"web": ["10.0.1.10"]})
    local = rng.choice([None, "10.0.1.10", "10.0.2.7", "nope"])
    if local:
        scope += ["--local", local]
        kw["local"] = local
    direction = rng.choice(["inbound", "outbound"])
    protocol = rng.choice(["Tcp", "udp", "carrier-pigeon"])
    port = rng.choice([0, 443, 29877])
    got = py(index.nsg_reach, str(nsg), direction, protocol, port, **kw)
    want = cli("nsg", "reach", *scope, "--direction", direction, "--protocol", protocol, "--port", str(port))
    assert got == want
    allow = rng.choice([None, "nsg-redundant-rule", "TN203"])
    lv = ["--allow", allow] if allow else []
    got = py(index.nsg_analyze, str(nsg), vnet=["10.0.0.0/16"], asgs={"web": ["10.0.1.10"]},
             allow=[allow] if allow else [])
    assert got == cli("nsg", "analyze", "--nsg", str(nsg), "--vnet", "10.0.0.0/16", "--asg", "web=10.0.1.10", *lv)
    region = rng.choice(REGIONS)
    profile = rng.choice([None, "aml-vnet-2020", "aml-vnet-2023", "nope"])
    args = ["nsg", "require", *scope, "--region", region] + (["--profile", profile] if profile else [])
    assert py(index.nsg_require, str(nsg), region, profile=profile, **kw) == cli(*args), args


@pytest.mark.parametrize("seed", range(8))
def test_routes_audit_is_the_same_answer(index, tmp_path, seed):
    rng = random.Random(3000 + seed)
    plan = index.udr_report("eastus2")
    routes = [
        {"name": r["name"], "properties": {"addressPrefix": r["address_prefix"], "nextHopType": "Internet"}}
        for r in plan["routes"]
        if rng.random() < 0.7
    ]
    if rng.random() < 0.5:
        routes.append({"name": "fw", "properties": {"addressPrefix": "0.0.0.0/0", "nextHopType": "VirtualAppliance",
                                                     "nextHopIpAddress": "10.0.100.4"}})
    table = {"name": "rt", "routes": routes}
    path = tmp_path / "rt.json"
    path.write_text(json.dumps(table))
    allow = rng.choice([None, "missing-route", "TN107"])
    max_routes = rng.choice([0, 40, 400])
    args = ["routes", "audit", "--route-table", str(path), "--region", "eastus2", "--vnet", "10.1.0.0/16",
            "--max-routes", str(max_routes)]
    kw = dict(vnet=["10.1.0.0/16"], max_routes=max_routes)
    if allow:
        args += ["--allow", allow]
        kw["allow"] = [allow]
    assert py(index.routes_audit, table, "eastus2", **kw) == cli(*args), args
    # The table as a bare list of routes (`az network route-table route list`), as JSON text too.
    assert py(index.routes_audit, routes, "eastus2", **kw) == py(index.routes_audit, json.dumps(routes), "eastus2", **kw)


def test_a_negative_count_is_refused_as_zero_is(index):
    with pytest.raises(tagnet.TagnetError, match="must be at least 1"):
        index.udr_report("eastus2", max_routes=-1)


def check_examples():
    import pathlib

    root = pathlib.Path(__file__).resolve().parents[2] / "data" / "examples"
    dirs = [p for p in root.iterdir() if p.is_dir() and p.name not in ("as-arm", "as-terraform")]
    dirs += [p for sub in ("as-arm", "as-terraform") for p in (root / sub).iterdir() if p.is_dir()]
    return sorted(dirs)


@pytest.mark.parametrize("seed", range(12))
def test_check_is_the_same_answer(index, seed):
    rng = random.Random(seed)
    d = rng.choice(check_examples())
    kw, args = {}, ["check", str(d)]
    if rng.random() < 0.4:
        p = rng.choice(["10.0.0.0/8", "192.168.0.0/16", "10.0.0.0/33"])
        kw["on_prem"] = [p]
        args += ["--on-prem", p]
    if rng.random() < 0.5:
        level = rng.choice(["allow", "warn", "deny"])
        code = rng.choice(["missing-route", "subnet-too-small", "TN003", "no-such-code"])
        kw[level] = [code]
        args += [f"--{level}", code]
    if rng.random() < 0.3:
        kw["profile"] = rng.choice(["aml-vnet-2023", "nope"])
        args += ["--profile", kw["profile"]]
    # By path, the command's reading; and as JSON documents named by their paths.
    assert py(index.check, str(d), **kw) == cli(*args)
    docs = {str(f): json.loads(f.read_text()) for f in sorted(d.rglob("*.json"))}
    assert py(index.check, docs, **kw) == cli(*args)


FLOW_NSG = {
    "name": "nsg-aml",
    "securityRules": [
        {"name": "AllowBatch", "properties": {"priority": 100, "direction": "Inbound", "access": "Allow",
         "protocol": "Tcp", "sourceAddressPrefix": "BatchNodeManagement.WestEurope", "sourcePortRange": "*",
         "destinationAddressPrefix": "VirtualNetwork", "destinationPortRange": "29876"}},
        {"name": "DenyStorage", "properties": {"priority": 200, "direction": "Outbound", "access": "Deny",
         "protocol": "*", "sourceAddressPrefix": "*", "sourcePortRange": "*",
         "destinationAddressPrefix": "Storage", "destinationPortRange": "443"}},
    ],
}


@pytest.mark.parametrize("seed", range(8))
def test_flows_verify_is_the_same_answer(index, flow_dir, tmp_path, seed):
    rng = random.Random(seed)
    kind = rng.choice(["vnet", "nsg-v2"])
    nsg = tmp_path / "nsg.json"
    nsg.write_text(json.dumps(FLOW_NSG))
    side = rng.choice(["nsg", "nic_nsg"])
    kw = {side: FLOW_NSG, "vnet": ["10.0.0.0/16"]}
    args = ["flows", "verify", str(flow_dir / kind), f"--{side.replace('_', '-')}", str(nsg), "--vnet", "10.0.0.0/16"]
    if rng.random() < 0.4:
        kw["all"] = True
        args.append("--all")
    if rng.random() < 0.4:
        p, r = rng.choice([("aml-vnet-2020", "westeurope"), ("nope", "westeurope"), ("aml-vnet-2020", "atlantis")])
        kw.update(profile=p, region=r)
        args += ["--profile", p, "--region", r]
    if rng.random() < 0.5:
        level = rng.choice(["allow", "warn", "deny"])
        code = rng.choice(["flow-verdict-drift", "flow-rule-drift", "TN303"])
        kw[level] = [code]
        args += [f"--{level}", code]
    want = cli(*args)
    assert py(index.flows_verify, str(flow_dir / kind), **kw) == want
    if want[0] == "doc" and not kw.get("all"):
        # Blobs given as JSON, named by their paths.
        blobs = {str(f): json.loads(f.read_text()) for f in sorted((flow_dir / kind).rglob("*.json"))}
        assert py(index.flows_verify, blobs, **kw) == want


def test_arrow_verify_takes_the_nic_nsg_as_the_command_does(index, flow_dir, tmp_path):
    """`verify_flows` with a NIC NSG: the same drifts as `flows verify --nic-nsg`."""
    nsg = tmp_path / "nsg.json"
    nsg.write_text(json.dumps(FLOW_NSG))
    allow_all = {"name": "subnet-open", "securityRules": [
        {"name": "AllowAll", "properties": {"priority": 100, "direction": d, "access": "Allow", "protocol": "*",
         "sourceAddressPrefix": "*", "sourcePortRange": "*", "destinationAddressPrefix": "*",
         "destinationPortRange": "*"}} for d in ("Inbound",)]}
    sub = tmp_path / "subnet.json"
    sub.write_text(json.dumps(allow_all))
    t = tagnet.verify_flows(index, tagnet.read_flow_logs(flow_dir / "vnet"), sub, vnet=["10.0.0.0/16"], nic_nsg=nsg)
    got = sorted((r["direction"], r["local_ip"], r["local_port"], r["remote_ip"], r["remote_port"], r["drift"],
                  r["verdict_rule"]) for r in t.to_pylist() if r["drift"])
    said = cli("flows", "verify", str(flow_dir / "vnet"), "--nsg", str(sub), "--nic-nsg", str(nsg),
               "--vnet", "10.0.0.0/16", "--format", "json")
    assert said[0] == "doc"
    want = sorted((r["direction"], r["local_ip"], r["local_port"], r["remote_ip"], r["remote_port"], r["drift"],
                   r["rule"]) for r in said[1]["records"])
    assert len(want) > 10
    assert got == want


@pytest.fixture(scope="module")
def earlier(tmp_path_factory):
    """An earlier week made from the built-in snapshot: tags and prefixes dropped or added."""
    doc = json.loads(tagnet.Index.builtin_bytes())
    doc["changeNumber"] -= 1
    doc["values"] = [v for i, v in enumerate(doc["values"], 1) if i % 37]
    for k, v in enumerate(doc["values"]):
        p = v["properties"]["addressPrefixes"]
        if k % 5 == 0 and len(p) > 1:
            p.pop()
        if k % 13 == 0:
            p.append("203.0.113.0/24")
    path = tmp_path_factory.mktemp("earlier") / "ServiceTags_Public_20261130.json"
    path.write_text(json.dumps(doc))
    return path


@pytest.mark.parametrize("seed", range(8))
def test_diff_is_the_same_answer(index, earlier, tmp_path, seed):
    rng = random.Random(seed)
    kw, args = {}, ["diff", str(earlier), "builtin"]
    if rng.random() < 0.5:
        t = rng.choice(["Storage", "AzureMachineLearning", "Batch*", "NoSuchTag"])
        kw["tags"] = [t]
        args += ["--tag", t]
    if rng.random() < 0.5:
        r = rng.choice(REGIONS)
        kw["regions"] = [r]
        args += ["--region", r]
        if rng.random() < 0.5:
            table = {"name": "rt", "routes": [{"name": "fw", "properties": {
                "addressPrefix": "0.0.0.0/0", "nextHopType": "VirtualAppliance", "nextHopIpAddress": "10.0.100.4"}}]}
            f = tmp_path / "rt.json"
            f.write_text(json.dumps(table))
            kw["route_table"] = table
            args += ["--route-table", str(f)]
    with warnings.catch_warnings():
        # A made-up earlier week: older than the built-in snapshot by design.
        warnings.simplefilter("ignore", tagnet.StaleSnapshotWarning)
        previous = tagnet.Index.load(earlier)
    assert py(index.diff, previous, **kw) == cli(*args)


def test_info_and_regions_are_the_same_answer(index):
    assert py(index.info_report) == cli("info")
    assert py(index.regions) == cli("regions")
    assert len(index.regions()["records"]) > 50


@pytest.mark.parametrize("seed", range(6))
def test_flows_summary_is_the_same_answer(index, flow_dir, seed):
    rng = random.Random(seed)
    kind = rng.choice(["vnet", "nsg-v2"])
    top = rng.choice([0, 3, 10])
    kw, args = {"top": top}, ["flows", "attribute", "--summary", str(flow_dir / kind), "--top", str(top)]
    if rng.random() < 0.5:
        p, r = rng.choice([("aml-vnet-2020", "westeurope"), ("nope", "westeurope"), ("aml-vnet-2020", "atlantis")])
        kw.update(profile=p, region=r)
        args += ["--profile", p, "--region", r]
    want = cli(*args)
    assert py(index.flows_summary, str(flow_dir / kind), **kw) == want
    if want[0] == "doc":
        blobs = {str(f): json.loads(f.read_text()) for f in sorted((flow_dir / kind).rglob("*.json"))}
        assert py(index.flows_summary, blobs, **kw) == want


def test_region_without_profile_and_bad_tuples_are_refused(index, flow_dir, tmp_path):
    with pytest.raises(tagnet.TagnetError, match="profile"):
        index.flows_summary(str(flow_dir / "vnet"), region="westeurope")
    bad = tmp_path / "bad.json"
    bad.write_text('{"records":[{"time":"t","flowLogVersion":4,"flowRecords":{"flows":[{"aclID":"a","flowGroups":'
                   '[{"rule":"r","flowTuples":["1663146003599,10.0.0.6,20.38.98.100,23956,443,6,O,B,NX,0,0,0,0",'
                   '"1663146003599,10.0.0.6,20.38.98.100,23956,443,6,O,Q,NX,0,0,0,0"]}]}]}}]}')
    with pytest.raises(tagnet.TagnetError, match="skip_bad="):
        index.flows_summary(str(bad))
    assert index.flows_summary(str(bad), skip_bad=True)["unreadable"] == 1
    assert cli("flows", "attribute", "--summary", str(bad))[0] == "refused"
