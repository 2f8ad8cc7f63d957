#!/usr/bin/env python3
"""Writes the `tagnet check` example networks: a compliant one and one broken network per
rule, each as `az` JSON (network.json); the compliant network and a few broken ones also as
an ARM template (template.json) and a Terraform plan (plan.json), for the format-parity test.

Run from the repository root: python3 data/examples/generate.py
The outputs are committed; the tests read them, they do not run this script.
"""
import copy
import json
import os
import shutil

SUB = "00000000-0000-0000-0000-000000000001"
RG = "rg-ml"
LOC = "eastus2"
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)))


def compliant():
    """The network, in an abstract form the three writers share."""
    return {
        "vnets": [
            {"name": "vnet-ml", "location": LOC, "space": ["10.10.0.0/16"],
             "peerings": [{"name": "to-hub", "remote": "vnet-hub", "space": ["10.0.0.0/22"]}],
             "subnets": [
                 {"name": "compute", "prefix": "10.10.0.0/24", "nsg": "nsg-compute", "rt": "rt-compute"},
                 {"name": "aci", "prefix": "10.10.1.0/24", "delegations": ["Microsoft.ContainerInstance/containerGroups"]},
                 {"name": "default", "prefix": "10.10.2.0/24"},
                 {"name": "vm", "prefix": "10.10.3.0/24", "nsg": "nsg-vm"},
                 {"name": "databricks-public", "prefix": "10.10.4.0/24", "delegations": ["Microsoft.Databricks/workspaces"]},
                 {"name": "databricks-private", "prefix": "10.10.5.0/24", "delegations": ["Microsoft.Databricks/workspaces"]},
                 {"name": "aks", "prefix": "10.10.16.0/20"},
             ]},
            {"name": "vnet-hub", "location": LOC, "space": ["10.0.0.0/22"], "peerings": [], "subnets": [
                {"name": "gateway", "prefix": "10.0.0.0/24"}]},
        ],
        "nsgs": [
            {"name": "nsg-compute", "rules": [
                {"name": "AllowBatchNodeManagement", "priority": 100, "direction": "Inbound", "access": "Allow",
                 "protocol": "Tcp", "source": "BatchNodeManagement", "dports": "29876-29877"},
                {"name": "AllowAzureMachineLearning", "priority": 110, "direction": "Inbound", "access": "Allow",
                 "protocol": "Tcp", "source": "AzureMachineLearning", "dports": "44224"},
            ]},
            {"name": "nsg-vm", "rules": [
                {"name": "AllowSshFromAzureML", "priority": 100, "direction": "Inbound", "access": "Allow",
                 "protocol": "Tcp", "source": "AzureMachineLearning", "dports": "22"},
            ]},
        ],
        "tables": [
            {"name": "rt-compute", "routes": [
                {"name": "to-onprem", "prefix": "192.168.0.0/16", "hop": "VirtualNetworkGateway"}]},
        ],
        "aks": [
            {"name": "aks-ml", "location": LOC, "plugin": "azure", "service": "10.240.0.0/16",
             "dns": "10.240.0.10", "pod": None, "bridge": None,
             "pools": [{"name": "system", "subnet": ("vnet-ml", "aks"), "count": 3, "max_pods": 30}]},
        ],
        "workspace": {"name": "mlw", "location": LOC, "storage": "stml", "vault": "kvml",
                      "registry": "acrml", "image_build": "cpu-cluster"},
        "computes": [
            {"name": "cpu-cluster", "type": "AmlCompute", "subnet": ("vnet-ml", "compute"), "max": 4},
            {"name": "dsvm", "type": "VirtualMachine", "vm": "vm-dsvm"},
        ],
        "stores": [
            {"name": "stml", "kind": "storage", "deny": True, "bypass": "AzureServices", "subnets": [("vnet-ml", "compute")]},
            {"name": "kvml", "kind": "vault", "deny": True, "bypass": "AzureServices", "subnets": [("vnet-ml", "compute")]},
        ],
        "registry": {"name": "acrml", "sku": "Premium", "deny": True, "subnets": [("vnet-ml", "compute")]},
        "databricks": {"name": "dbw", "vnet": "vnet-ml", "public": "databricks-public", "private": "databricks-private"},
        "vm": {"name": "vm-dsvm", "image": ["Canonical", "0001-com-ubuntu-server-jammy", "22_04-lts-gen2"],
               "nic": "nic-dsvm"},
        "nic": {"name": "nic-dsvm", "subnet": ("vnet-ml", "vm"), "ip": "10.10.3.4"},
        "aci": {"name": "aci-infer", "subnet": ("vnet-ml", "aci")},
    }


def subnet(n, vnet, name):
    for v in n["vnets"]:
        if v["name"] == vnet:
            for s in v["subnets"]:
                if s["name"] == name:
                    return s
    raise KeyError(name)


# One broken network per rule: (folder, the code it must report, mutation).
def m_subnet_small(n):
    n["computes"][0]["max"] = 300
def m_subnet_outside(n):
    subnet(n, "vnet-ml", "default")["prefix"] = "10.11.2.0/24"
def m_subnet_overlap(n):
    subnet(n, "vnet-ml", "default")["prefix"] = "10.10.1.128/25"
def m_vnet_peering(n):
    n["vnets"][0]["peerings"][0]["space"] = ["10.10.0.0/22"]
    n["vnets"][1]["space"] = ["10.10.0.0/22"]
    n["vnets"][1]["subnets"][0]["prefix"] = "10.10.0.0/24"
def m_vnet_reserved(n):
    n["vnets"][0]["space"].append("169.254.0.0/16")
def m_vnet_onprem(n):
    n["gateways"] = [{"name": "lng-corp", "space": ["192.168.0.0/16", "10.10.128.0/17"]}]
def m_aks_service(n):
    n["aks"][0]["service"] = "10.10.0.0/16"
    n["aks"][0]["dns"] = "10.10.0.10"
def m_aks_dns(n):
    n["aks"][0]["dns"] = "10.241.0.10"
def m_aks_reserved(n):
    n["aks"][0]["service"] = "172.30.0.0/16"
    n["aks"][0]["dns"] = "172.30.0.10"
def m_aks_large(n):
    n["aks"][0]["service"] = "100.64.0.0/10"
    n["aks"][0]["dns"] = "100.64.0.10"
def m_aks_bridge(n):
    n["aks"][0]["bridge"] = "10.10.0.1/16"
def m_aks_pod(n):
    n["aks"][0]["plugin"] = "kubenet"
    n["aks"][0]["pod"] = "10.240.0.0/16"
def m_aks_delegated(n):
    n["aks"][0]["pools"][0]["subnet"] = ("vnet-ml", "aci")
    n["aci"]["subnet"] = ("vnet-ml", "aci")
def m_aks_region(n):
    n["aks"][0]["location"] = "westeurope"
def m_nsg_req(n):
    n["nsgs"][0]["rules"].pop(1)
def m_nsg_shadow(n):
    n["nsgs"][1]["rules"].append({"name": "AllowSshFromAzureMLEastUS2", "priority": 200, "direction": "Inbound",
                                  "access": "Allow", "protocol": "Tcp", "source": "AzureMachineLearning.EastUS2",
                                  "dports": "22"})
def m_forced(n):
    n["tables"][0]["routes"].append({"name": "default-to-firewall", "prefix": "0.0.0.0/0",
                                     "hop": "VirtualAppliance", "ip": "10.0.0.4"})
def m_via_appliance(n):
    m_forced(n)
    n["tables"][0]["routes"] += [
        {"name": "batch-to-internet", "prefix": "BatchNodeManagement.EastUS2", "hop": "Internet"},
        {"name": "aml-to-internet", "prefix": "AzureMachineLearning.EastUS2", "hop": "Internet"}]
def m_dropped_by_route(n):
    n["tables"][0]["routes"].append({"name": "no-storage", "prefix": "Storage.EastUS2", "hop": "None"})
def m_vnet_tag_udr(n):
    n["tables"].append({"name": "rt-vm", "routes": [
        {"name": "default-to-firewall", "prefix": "0.0.0.0/0", "hop": "VirtualAppliance", "ip": "10.0.0.4"}]})
    subnet(n, "vnet-ml", "vm")["rt"] = "rt-vm"
def m_store_subnet(n):
    n["stores"][0]["subnets"] = [("vnet-ml", "default")]
def m_kv_subnet(n):
    n["stores"][1]["subnets"] = []
def m_store_trusted(n):
    n["stores"][0]["bypass"] = "None"
def m_kv_trusted(n):
    n["stores"][1]["bypass"] = "None"
def m_acr_sku(n):
    n["registry"]["sku"] = "Standard"
def m_acr_vnet(n):
    n["registry"]["subnets"] = [("vnet-hub", "gateway")]
def m_acr_unreachable(n):
    n["registry"]["subnets"] = []
def m_acr_build(n):
    n["workspace"]["image_build"] = None
def m_ws_region(n):
    n["workspace"]["location"] = "westeurope"
def m_managed(n):
    n["workspace"]["managed"] = "AllowOnlyApprovedOutbound"
def m_aci(n):
    subnet(n, "vnet-ml", "aci")["delegations"] = []
def m_databricks(n):
    n["databricks"]["public"] = "dbw-public"
def m_vm_os(n):
    n["vm"]["image"] = ["MicrosoftWindowsServer", "WindowsServer", "2022-datacenter"]
def m_vm_ssh(n):
    n["nsgs"][1]["rules"][0]["source"] = "VirtualNetwork"
def m_dangling(n):
    n["computes"][0]["subnet"] = ("vnet-ml", "training")


BROKEN = [
    ("subnet-too-small", m_subnet_small),
    ("subnet-outside-vnet", m_subnet_outside),
    ("subnet-overlap", m_subnet_overlap),
    ("vnet-peering-overlap", m_vnet_peering),
    ("vnet-reserved-range", m_vnet_reserved),
    ("vnet-onprem-overlap", m_vnet_onprem),
    ("aks-service-cidr-overlap", m_aks_service),
    ("aks-dns-service-ip", m_aks_dns),
    ("aks-reserved-range", m_aks_reserved),
    ("aks-service-cidr-too-large", m_aks_large),
    ("aks-docker-bridge-overlap", m_aks_bridge),
    ("aks-pod-cidr-overlap", m_aks_pod),
    ("aks-region-mismatch", m_aks_region),
    ("aks-subnet-delegated", m_aks_delegated),
    ("nsg-requirement-unmet", m_nsg_req),
    ("nsg-unreachable-rule", m_nsg_shadow),
    ("missing-route", m_forced),
    ("requirement-via-appliance", m_via_appliance),
    ("requirement-dropped-by-route", m_dropped_by_route),
    ("nsg-vnet-tag-under-udr", m_vnet_tag_udr),
    ("storage-subnet-not-allowed", m_store_subnet),
    ("keyvault-subnet-not-allowed", m_kv_subnet),
    ("storage-trusted-services-off", m_store_trusted),
    ("keyvault-trusted-services-off", m_kv_trusted),
    ("acr-not-premium", m_acr_sku),
    ("acr-no-image-build-compute", m_acr_build),
    ("acr-other-vnet", m_acr_vnet),
    ("acr-unreachable", m_acr_unreachable),
    ("workspace-vnet-mismatch", m_ws_region),
    ("managed-network-compute", m_managed),
    ("aci-subnet-not-delegated", m_aci),
    ("databricks-subnets-missing", m_databricks),
    ("attached-vm-not-ubuntu", m_vm_os),
    ("attached-vm-no-ssh", m_vm_ssh),
    ("dangling-reference", m_dangling),
]
# Also written as ARM templates and Terraform plans.
PARITY = {"compliant", "aks-service-cidr-overlap", "nsg-requirement-unmet", "storage-subnet-not-allowed",
          "subnet-too-small", "aci-subnet-not-delegated", "acr-other-vnet", "missing-route"}


def rid(kind, *names):
    types = kind.split("/")
    path = "/".join(f"{t}/{n}" for t, n in zip(types[1:], names))
    return f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/{types[0]}/{path}"


def rule_az(r):
    return {"name": r["name"], "priority": r["priority"], "direction": r["direction"], "access": r["access"],
            "protocol": r["protocol"], "sourceAddressPrefix": r["source"], "sourcePortRange": "*",
            "destinationAddressPrefix": "*", "destinationPortRange": r["dports"]}


# ---------------------------------------------------------------- az JSON (`az … show -o json`)
def az(n):
    out = []
    for v in n["vnets"]:
        subs = []
        for s in v["subnets"]:
            d = {"id": rid("Microsoft.Network/virtualNetworks/subnets", v["name"], s["name"]), "name": s["name"],
                 "addressPrefix": s["prefix"],
                 "delegations": [{"name": "d", "serviceName": x} for x in s.get("delegations", [])]}
            if s.get("nsg"):
                d["networkSecurityGroup"] = {"id": rid("Microsoft.Network/networkSecurityGroups", s["nsg"])}
            if s.get("rt"):
                d["routeTable"] = {"id": rid("Microsoft.Network/routeTables", s["rt"])}
            subs.append(d)
        out.append({"id": rid("Microsoft.Network/virtualNetworks", v["name"]), "name": v["name"],
                    "type": "Microsoft.Network/virtualNetworks", "location": v["location"],
                    "addressSpace": {"addressPrefixes": v["space"]}, "subnets": subs,
                    "virtualNetworkPeerings": [
                        {"name": p["name"], "peeringState": "Connected",
                         "remoteVirtualNetwork": {"id": rid("Microsoft.Network/virtualNetworks", p["remote"])},
                         "remoteAddressSpace": {"addressPrefixes": p["space"]}} for p in v["peerings"]]})
    for g in n["nsgs"]:
        out.append({"id": rid("Microsoft.Network/networkSecurityGroups", g["name"]), "name": g["name"],
                    "type": "Microsoft.Network/networkSecurityGroups", "location": LOC,
                    "securityRules": [rule_az(r) for r in g["rules"]]})
    for t in n["tables"]:
        out.append({"id": rid("Microsoft.Network/routeTables", t["name"]), "name": t["name"],
                    "type": "Microsoft.Network/routeTables", "location": LOC,
                    "routes": [dict({"name": r["name"], "addressPrefix": r["prefix"], "nextHopType": r["hop"]},
                                    **({"nextHopIpAddress": r["ip"]} if r.get("ip") else {})) for r in t["routes"]]})
    for g in n.get("gateways", []):
        out.append({"id": rid("Microsoft.Network/localNetworkGateways", g["name"]), "name": g["name"],
                    "type": "Microsoft.Network/localNetworkGateways", "location": LOC,
                    "gatewayIpAddress": "203.0.113.10",
                    "localNetworkAddressSpace": {"addressPrefixes": g["space"]}})
    for c in n["aks"]:
        npf = {"networkPlugin": c["plugin"], "serviceCidr": c["service"], "dnsServiceIp": c["dns"]}
        if c["pod"]:
            npf["podCidr"] = c["pod"]
        if c["bridge"]:
            npf["dockerBridgeCidr"] = c["bridge"]
        out.append({"id": rid("Microsoft.ContainerService/managedClusters", c["name"]), "name": c["name"],
                    "type": "Microsoft.ContainerService/managedClusters", "location": c["location"],
                    "networkProfile": npf,
                    "agentPoolProfiles": [{"name": p["name"], "count": p["count"], "maxPods": p["max_pods"],
                                           "vnetSubnetId": rid("Microsoft.Network/virtualNetworks/subnets", *p["subnet"])}
                                          for p in c["pools"]]})
    w = n["workspace"]
    ws = {"id": rid("Microsoft.MachineLearningServices/workspaces", w["name"]), "name": w["name"],
          "type": "Microsoft.MachineLearningServices/workspaces", "location": w["location"],
          "properties": {"storageAccount": rid("Microsoft.Storage/storageAccounts", w["storage"]),
                         "keyVault": rid("Microsoft.KeyVault/vaults", w["vault"]),
                         "containerRegistry": rid("Microsoft.ContainerRegistry/registries", w["registry"])}}
    if w["image_build"]:
        ws["properties"]["imageBuildCompute"] = w["image_build"]
    if w.get("managed"):
        ws["properties"]["managedNetwork"] = {"isolationMode": w["managed"]}
    out.append(ws)
    for c in n["computes"]:
        props = {"computeType": c["type"]}
        if c["type"] == "AmlCompute":
            props["properties"] = {"subnet": {"id": rid("Microsoft.Network/virtualNetworks/subnets", *c["subnet"])},
                                   "scaleSettings": {"maxNodeCount": c["max"], "minNodeCount": 0}}
        else:
            props["resourceId"] = rid("Microsoft.Compute/virtualMachines", c["vm"])
        out.append({"id": rid("Microsoft.MachineLearningServices/workspaces/computes", w["name"], c["name"]),
                    "name": c["name"], "type": "Microsoft.MachineLearningServices/workspaces/computes",
                    "location": w["location"], "properties": props})
    for s in n["stores"]:
        acl = {"defaultAction": "Deny" if s["deny"] else "Allow", "bypass": s["bypass"],
               "virtualNetworkRules": [{"id": rid("Microsoft.Network/virtualNetworks/subnets", *x)} for x in s["subnets"]]}
        if s["kind"] == "storage":
            out.append({"id": rid("Microsoft.Storage/storageAccounts", s["name"]), "name": s["name"],
                        "type": "Microsoft.Storage/storageAccounts", "location": LOC,
                        "networkRuleSet": {"defaultAction": acl["defaultAction"], "bypass": acl["bypass"],
                                           "virtualNetworkRules": [{"virtualNetworkResourceId": r["id"], "action": "Allow"}
                                                                   for r in acl["virtualNetworkRules"]]}})
        else:
            out.append({"id": rid("Microsoft.KeyVault/vaults", s["name"]), "name": s["name"],
                        "type": "Microsoft.KeyVault/vaults", "location": LOC, "properties": {"networkAcls": acl}})
    r = n["registry"]
    out.append({"id": rid("Microsoft.ContainerRegistry/registries", r["name"]), "name": r["name"],
                "type": "Microsoft.ContainerRegistry/registries", "location": LOC, "sku": {"name": r["sku"]},
                "networkRuleSet": {"defaultAction": "Deny" if r["deny"] else "Allow",
                                   "virtualNetworkRules": [{"virtualNetworkResourceId": rid("Microsoft.Network/virtualNetworks/subnets", *x),
                                                            "action": "Allow"} for x in r["subnets"]]}})
    d = n["databricks"]
    out.append({"id": rid("Microsoft.Databricks/workspaces", d["name"]), "name": d["name"],
                "type": "Microsoft.Databricks/workspaces", "location": LOC,
                "parameters": {"customVirtualNetworkId": {"type": "String", "value": rid("Microsoft.Network/virtualNetworks", d["vnet"])},
                               "customPublicSubnetName": {"type": "String", "value": d["public"]},
                               "customPrivateSubnetName": {"type": "String", "value": d["private"]}}})
    vm = n["vm"]
    out.append({"id": rid("Microsoft.Compute/virtualMachines", vm["name"]), "name": vm["name"],
                "type": "Microsoft.Compute/virtualMachines", "location": LOC,
                "storageProfile": {"imageReference": dict(zip(["publisher", "offer", "sku"], vm["image"]))},
                "networkProfile": {"networkInterfaces": [{"id": rid("Microsoft.Network/networkInterfaces", vm["nic"])}]}})
    nic = n["nic"]
    out.append({"id": rid("Microsoft.Network/networkInterfaces", nic["name"]), "name": nic["name"],
                "type": "Microsoft.Network/networkInterfaces", "location": LOC,
                "ipConfigurations": [{"name": "ipconfig1", "privateIPAddress": nic["ip"],
                                      "subnet": {"id": rid("Microsoft.Network/virtualNetworks/subnets", *nic["subnet"])}}]})
    a = n["aci"]
    out.append({"id": rid("Microsoft.ContainerInstance/containerGroups", a["name"]), "name": a["name"],
                "type": "Microsoft.ContainerInstance/containerGroups", "location": LOC,
                "subnetIds": [{"id": rid("Microsoft.Network/virtualNetworks/subnets", *a["subnet"])}]})
    return out


# ---------------------------------------------------------------- ARM template
def arm_id(kind, *names):
    args = ", ".join([f"'{kind}'"] + [f"'{x}'" for x in names])
    return f"[resourceId({args})]"


def arm(n):
    res = []
    loc = "[parameters('location')]"
    for v in n["vnets"]:
        subs = []
        for s in v["subnets"]:
            p = {"addressPrefix": s["prefix"],
                 "delegations": [{"name": "d", "properties": {"serviceName": x}} for x in s.get("delegations", [])]}
            if s.get("nsg"):
                p["networkSecurityGroup"] = {"id": arm_id("Microsoft.Network/networkSecurityGroups", s["nsg"])}
            if s.get("rt"):
                p["routeTable"] = {"id": arm_id("Microsoft.Network/routeTables", s["rt"])}
            subs.append({"name": s["name"], "properties": p})
        vloc = loc if v["location"] == LOC else v["location"]
        res.append({"type": "Microsoft.Network/virtualNetworks", "apiVersion": "2023-09-01", "name": v["name"],
                    "location": vloc, "properties": {"addressSpace": {"addressPrefixes": v["space"]}, "subnets": subs},
                    "resources": [{"type": "virtualNetworkPeerings", "apiVersion": "2023-09-01", "name": p["name"],
                                   "properties": {"remoteVirtualNetwork": {"id": arm_id("Microsoft.Network/virtualNetworks", p["remote"])},
                                                  "remoteAddressSpace": {"addressPrefixes": p["space"]}}}
                                  for p in v["peerings"]]})
    for g in n["nsgs"]:
        res.append({"type": "Microsoft.Network/networkSecurityGroups", "apiVersion": "2023-09-01", "name": g["name"],
                    "location": loc, "properties": {"securityRules": [
                        {"name": r["name"], "properties": {k: v for k, v in rule_az(r).items() if k != "name"}}
                        for r in g["rules"]]}})
    for t in n["tables"]:
        res.append({"type": "Microsoft.Network/routeTables", "apiVersion": "2023-09-01", "name": t["name"],
                    "location": loc, "properties": {"routes": [
                        {"name": r["name"], "properties": dict({"addressPrefix": r["prefix"], "nextHopType": r["hop"]},
                                                               **({"nextHopIpAddress": r["ip"]} if r.get("ip") else {}))}
                        for r in t["routes"]]}})
    for c in n["aks"]:
        npf = {"networkPlugin": c["plugin"], "serviceCidr": c["service"], "dnsServiceIP": c["dns"]}
        if c["pod"]:
            npf["podCidr"] = c["pod"]
        if c["bridge"]:
            npf["dockerBridgeCidr"] = c["bridge"]
        res.append({"type": "Microsoft.ContainerService/managedClusters", "apiVersion": "2024-02-01", "name": c["name"],
                    "location": loc if c["location"] == LOC else c["location"],
                    "properties": {"networkProfile": npf, "agentPoolProfiles": [
                        {"name": p["name"], "count": p["count"], "maxPods": p["max_pods"],
                         "vnetSubnetID": arm_id("Microsoft.Network/virtualNetworks/subnets", *p["subnet"])} for p in c["pools"]]}})
    w = n["workspace"]
    props = {"storageAccount": arm_id("Microsoft.Storage/storageAccounts", w["storage"]),
             "keyVault": arm_id("Microsoft.KeyVault/vaults", w["vault"]),
             "containerRegistry": arm_id("Microsoft.ContainerRegistry/registries", w["registry"])}
    if w["image_build"]:
        props["imageBuildCompute"] = w["image_build"]
    res.append({"type": "Microsoft.MachineLearningServices/workspaces", "apiVersion": "2024-04-01", "name": w["name"],
                "location": loc if w["location"] == LOC else w["location"], "properties": props})
    for c in n["computes"]:
        props = {"computeType": c["type"]}
        if c["type"] == "AmlCompute":
            props["properties"] = {"subnet": {"id": arm_id("Microsoft.Network/virtualNetworks/subnets", *c["subnet"])},
                                   "scaleSettings": {"maxNodeCount": c["max"], "minNodeCount": 0}}
        else:
            props["resourceId"] = arm_id("Microsoft.Compute/virtualMachines", c["vm"])
        res.append({"type": "Microsoft.MachineLearningServices/workspaces/computes", "apiVersion": "2024-04-01",
                    "name": f"{w['name']}/{c['name']}", "location": loc, "properties": props})
    for s in n["stores"]:
        acl = {"defaultAction": "Deny" if s["deny"] else "Allow", "bypass": s["bypass"],
               "virtualNetworkRules": [{"id": arm_id("Microsoft.Network/virtualNetworks/subnets", *x)} for x in s["subnets"]]}
        kind = "Microsoft.Storage/storageAccounts" if s["kind"] == "storage" else "Microsoft.KeyVault/vaults"
        res.append({"type": kind, "apiVersion": "2023-01-01", "name": s["name"], "location": loc,
                    "properties": {"networkAcls": acl}})
    r = n["registry"]
    res.append({"type": "Microsoft.ContainerRegistry/registries", "apiVersion": "2023-07-01", "name": r["name"],
                "location": loc, "sku": {"name": r["sku"]},
                "properties": {"networkRuleSet": {"defaultAction": "Deny" if r["deny"] else "Allow",
                                                  "virtualNetworkRules": [{"id": arm_id("Microsoft.Network/virtualNetworks/subnets", *x),
                                                                           "action": "Allow"} for x in r["subnets"]]}}})
    d = n["databricks"]
    res.append({"type": "Microsoft.Databricks/workspaces", "apiVersion": "2024-05-01", "name": d["name"], "location": loc,
                "properties": {"parameters": {
                    "customVirtualNetworkId": {"value": arm_id("Microsoft.Network/virtualNetworks", d["vnet"])},
                    "customPublicSubnetName": {"value": d["public"]},
                    "customPrivateSubnetName": {"value": d["private"]}}}})
    vm = n["vm"]
    res.append({"type": "Microsoft.Compute/virtualMachines", "apiVersion": "2024-03-01", "name": vm["name"], "location": loc,
                "properties": {"storageProfile": {"imageReference": dict(zip(["publisher", "offer", "sku"], vm["image"]))},
                               "networkProfile": {"networkInterfaces": [{"id": arm_id("Microsoft.Network/networkInterfaces", vm["nic"])}]}}})
    nic = n["nic"]
    res.append({"type": "Microsoft.Network/networkInterfaces", "apiVersion": "2023-09-01", "name": nic["name"], "location": loc,
                "properties": {"ipConfigurations": [{"name": "ipconfig1", "properties": {
                    "privateIPAddress": nic["ip"], "privateIPAllocationMethod": "Static",
                    "subnet": {"id": arm_id("Microsoft.Network/virtualNetworks/subnets", *nic["subnet"])}}}]}})
    a = n["aci"]
    res.append({"type": "Microsoft.ContainerInstance/containerGroups", "apiVersion": "2023-05-01", "name": a["name"],
                "location": loc, "properties": {"subnetIds": [{"id": arm_id("Microsoft.Network/virtualNetworks/subnets", *a["subnet"])}]}})
    return {"$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
            "contentVersion": "1.0.0.0",
            "parameters": {"location": {"type": "string", "defaultValue": LOC}},
            "resources": res}


# ---------------------------------------------------------------- Terraform plan (`terraform show -json`)
def tf(n):
    planned, config = [], []

    def add(kind, name, values, refs=None):
        addr = f"{kind}.{name}"
        planned.append({"address": addr, "mode": "managed", "type": kind, "name": name, "values": values})
        config.append({"address": addr, "mode": "managed", "type": kind, "name": name, "expressions": refs or {}})
        return addr

    def ref(addr):
        return {"references": [f"{addr}.id", addr]}

    tfname = lambda s: s.replace("-", "_")
    sub_addr = lambda v, s: f"azurerm_subnet.{tfname(v)}_{tfname(s)}"
    for v in n["vnets"]:
        add("azurerm_virtual_network", tfname(v["name"]), {"name": v["name"], "location": v["location"],
                                                           "resource_group_name": RG, "address_space": v["space"]})
        for s in v["subnets"]:
            add("azurerm_subnet", f"{tfname(v['name'])}_{tfname(s['name'])}",
                {"name": s["name"], "resource_group_name": RG, "virtual_network_name": v["name"],
                 "address_prefixes": [s["prefix"]],
                 "delegation": [{"name": "d", "service_delegation": [{"name": x, "actions": []}]} for x in s.get("delegations", [])]})
            if s.get("nsg"):
                add("azurerm_subnet_network_security_group_association", f"{tfname(v['name'])}_{tfname(s['name'])}", {},
                    {"subnet_id": ref(sub_addr(v["name"], s["name"])),
                     "network_security_group_id": ref(f"azurerm_network_security_group.{tfname(s['nsg'])}")})
            if s.get("rt"):
                add("azurerm_subnet_route_table_association", f"{tfname(v['name'])}_{tfname(s['name'])}", {},
                    {"subnet_id": ref(sub_addr(v["name"], s["name"])),
                     "route_table_id": ref(f"azurerm_route_table.{tfname(s['rt'])}")})
        for p in v["peerings"]:
            add("azurerm_virtual_network_peering", tfname(p["name"]), {"name": p["name"], "virtual_network_name": v["name"],
                                                                        "resource_group_name": RG},
                {"remote_virtual_network_id": ref(f"azurerm_virtual_network.{tfname(p['remote'])}")})
    for g in n["nsgs"]:
        add("azurerm_network_security_group", tfname(g["name"]), {"name": g["name"], "location": LOC, "security_rule": [
            {"name": r["name"], "priority": r["priority"], "direction": r["direction"], "access": r["access"],
             "protocol": r["protocol"], "source_address_prefix": r["source"], "source_address_prefixes": [],
             "source_port_range": "*", "source_port_ranges": [], "destination_address_prefix": "*",
             "destination_address_prefixes": [], "destination_port_range": r["dports"], "destination_port_ranges": [],
             "source_application_security_group_ids": [], "destination_application_security_group_ids": [],
             "description": ""} for r in g["rules"]]})
    for t in n["tables"]:
        add("azurerm_route_table", tfname(t["name"]), {"name": t["name"], "location": LOC, "route": [
            {"name": r["name"], "address_prefix": r["prefix"], "next_hop_type": r["hop"],
             "next_hop_in_ip_address": r.get("ip", "")} for r in t["routes"]]})
    for c in n["aks"]:
        npf = {"network_plugin": c["plugin"], "service_cidr": c["service"], "dns_service_ip": c["dns"]}
        if c["pod"]:
            npf["pod_cidr"] = c["pod"]
        if c["bridge"]:
            npf["docker_bridge_cidr"] = c["bridge"]
        p = c["pools"][0]
        add("azurerm_kubernetes_cluster", tfname(c["name"]),
            {"name": c["name"], "location": c["location"], "network_profile": [npf],
             "default_node_pool": [{"name": p["name"], "node_count": p["count"], "max_pods": p["max_pods"]}]},
            {"default_node_pool": [{"vnet_subnet_id": ref(sub_addr(*p["subnet"]))}]})
    w = n["workspace"]
    ws = add("azurerm_machine_learning_workspace", tfname(w["name"]),
             {"name": w["name"], "location": w["location"], "image_build_compute_name": w["image_build"]},
             {"storage_account_id": ref(f"azurerm_storage_account.{tfname(w['storage'])}"),
              "key_vault_id": ref(f"azurerm_key_vault.{tfname(w['vault'])}"),
              "container_registry_id": ref(f"azurerm_container_registry.{tfname(w['registry'])}")})
    for c in n["computes"]:
        if c["type"] == "AmlCompute":
            add("azurerm_machine_learning_compute_cluster", tfname(c["name"]),
                {"name": c["name"], "location": w["location"], "scale_settings": [{"max_node_count": c["max"], "min_node_count": 0}]},
                {"machine_learning_workspace_id": ref(ws), "subnet_resource_id": ref(sub_addr(*c["subnet"]))})
        # Terraform's azurerm has no resource for attaching a VM to a workspace; that one is
        # attached with `az ml compute attach` and checked from az JSON.
    for s in n["stores"]:
        block = {"default_action": "Deny" if s["deny"] else "Allow",
                 "bypass": [] if s["bypass"] == "None" else [s["bypass"]]}
        if s["kind"] == "storage":
            add("azurerm_storage_account", tfname(s["name"]), {"name": s["name"], "location": LOC, "network_rules": [block]},
                {"network_rules": [{"virtual_network_subnet_ids": {"references": [x for sn in s["subnets"] for x in (sub_addr(*sn) + ".id", sub_addr(*sn))]}}]})
        else:
            block["bypass"] = s["bypass"]
            add("azurerm_key_vault", tfname(s["name"]), {"name": s["name"], "location": LOC, "network_acls": [block]},
                {"network_acls": [{"virtual_network_subnet_ids": {"references": [x for sn in s["subnets"] for x in (sub_addr(*sn) + ".id", sub_addr(*sn))]}}]})
    r = n["registry"]
    add("azurerm_container_registry", tfname(r["name"]), {"name": r["name"], "location": LOC, "sku": r["sku"],
                                                          "network_rule_set": [{"default_action": "Deny" if r["deny"] else "Allow"}]},
        {"network_rule_set": [{"virtual_network": [{"subnet_id": {"references": [x for sn in r["subnets"] for x in (sub_addr(*sn) + ".id", sub_addr(*sn))]}}]}]})
    d = n["databricks"]
    add("azurerm_databricks_workspace", tfname(d["name"]), {"name": d["name"], "location": LOC, "custom_parameters": [
        {"public_subnet_name": d["public"], "private_subnet_name": d["private"]}]},
        {"custom_parameters": [{"virtual_network_id": ref(f"azurerm_virtual_network.{tfname(d['vnet'])}")}]})
    vm, nic = n["vm"], n["nic"]
    add("azurerm_network_interface", tfname(nic["name"]), {"name": nic["name"], "location": LOC, "ip_configuration": [
        {"name": "ipconfig1", "private_ip_address": nic["ip"], "private_ip_address_allocation": "Static"}]},
        {"ip_configuration": [{"subnet_id": ref(sub_addr(*nic["subnet"]))}]})
    add("azurerm_linux_virtual_machine", tfname(vm["name"]), {"name": vm["name"], "location": LOC,
        "source_image_reference": [dict(zip(["publisher", "offer", "sku"], vm["image"]), version="latest")]},
        {"network_interface_ids": ref(f"azurerm_network_interface.{tfname(nic['name'])}")})
    a = n["aci"]
    add("azurerm_container_group", tfname(a["name"]), {"name": a["name"], "location": LOC, "ip_address_type": "Private"},
        {"subnet_ids": ref(sub_addr(*a["subnet"]))})
    return {"format_version": "1.2", "terraform_version": "1.9.5",
            "planned_values": {"root_module": {"resources": planned}},
            "configuration": {"root_module": {"resources": config}}}


def dump(path, doc):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")


def write(folder, n, parity):
    """az JSON in <folder>/network.json; the other forms under as-arm/ and as-terraform/."""
    dump(os.path.join(OUT, folder, "network.json"), az(n))
    if parity:
        dump(os.path.join(OUT, "as-arm", folder, "template.json"), arm(n))
        dump(os.path.join(OUT, "as-terraform", folder, "plan.json"), tf(n))


for d in os.listdir(OUT):
    if os.path.isdir(os.path.join(OUT, d)):
        shutil.rmtree(os.path.join(OUT, d))


write("compliant", compliant(), True)
for folder, mutate in BROKEN:
    n = compliant()
    mutate(n)
    write(folder, n, folder in PARITY)
