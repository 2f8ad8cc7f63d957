//! Deployment renderers for a route set: an `az` script, an ARM template, Bicep and Terraform.
//!
//! Each renderer returns the whole text; every value is quoted for its language, so a route
//! name or prefix can never break out of its string.

use super::Route;
use serde_json::json;
use std::fmt::Write;

/// Context printed at the top of each file.
#[derive(Debug, Clone, Default)]
pub struct Header {
    /// Lines of explanation (tags, regions, snapshot, extra addresses).
    pub lines: Vec<String>,
}

/// Quotes a string for bash: single quotes, with `'` written `'\''`.
pub fn sh_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// Quotes a string for Bicep: single quotes, with `\`, `'` and `${` escaped.
pub fn bicep_quote(s: &str) -> String {
    let mut out = String::from("'");
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("\\'"),
            '$' => out.push_str("\\$"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}

/// Quotes a string for HCL: a JSON string with `${` and `%{` escaped.
pub fn hcl_quote(s: &str) -> String {
    serde_json::to_string(s)
        .expect("strings serialise")
        .replace("${", "$${")
        .replace("%{", "%%{")
}

/// A bash script of `az network route-table route create` lines; the resource group and the
/// route table are its two arguments.
pub fn az(routes: &[Route], header: &Header) -> String {
    let mut s = String::from("#!/usr/bin/env bash\n");
    for l in &header.lines {
        let _ = writeln!(s, "# {}", l.replace('\n', " "));
    }
    s.push_str(
        "set -euo pipefail\n\
         RESOURCE_GROUP=\"${1:?usage: $0 RESOURCE_GROUP ROUTE_TABLE}\"\n\
         ROUTE_TABLE=\"${2:?usage: $0 RESOURCE_GROUP ROUTE_TABLE}\"\n\n",
    );
    for r in routes {
        let _ = write!(
            s,
            "az network route-table route create --resource-group \"$RESOURCE_GROUP\" --route-table-name \"$ROUTE_TABLE\" --name {} --address-prefix {} --next-hop-type {}",
            sh_quote(&r.name),
            sh_quote(&r.address_prefix),
            sh_quote(r.next_hop.kind())
        );
        if let Some(ip) = r.next_hop.ip() {
            let _ = write!(s, " --next-hop-ip-address {}", sh_quote(&ip.to_string()));
        }
        s.push_str(" --output none\n");
    }
    s
}

fn arm_route(r: &Route) -> serde_json::Value {
    let mut props = json!({"addressPrefix": r.address_prefix, "nextHopType": r.next_hop.kind()});
    if let Some(ip) = r.next_hop.ip() {
        props["nextHopIpAddress"] = json!(ip.to_string());
    }
    json!({"name": r.name, "properties": props})
}

/// A deployable ARM template with one `Microsoft.Network/routeTables` resource.
pub fn arm(routes: &[Route], header: &Header) -> String {
    let template = json!({
        "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
        "contentVersion": "1.0.0.0",
        "metadata": {"generator": "tagnet", "description": header.lines.join(" | ")},
        "parameters": {
            "routeTableName": {"type": "string", "metadata": {"description": "Name of the route table"}},
            "location": {"type": "string", "defaultValue": "[resourceGroup().location]"},
            "disableBgpRoutePropagation": {"type": "bool", "defaultValue": false}
        },
        "resources": [{
            "type": "Microsoft.Network/routeTables",
            "apiVersion": "2023-09-01",
            "name": "[parameters('routeTableName')]",
            "location": "[parameters('location')]",
            "properties": {
                "disableBgpRoutePropagation": "[parameters('disableBgpRoutePropagation')]",
                "routes": routes.iter().map(arm_route).collect::<Vec<_>>()
            }
        }]
    });
    let mut s = serde_json::to_string_pretty(&template).expect("values serialise");
    s.push('\n');
    s
}

/// A Bicep file with one route table.
pub fn bicep(routes: &[Route], header: &Header) -> String {
    let mut s = String::new();
    for l in &header.lines {
        let _ = writeln!(s, "// {}", l.replace('\n', " "));
    }
    s.push_str(
        "param routeTableName string\n\
         param location string = resourceGroup().location\n\
         param disableBgpRoutePropagation bool = false\n\n\
         resource routeTable 'Microsoft.Network/routeTables@2023-09-01' = {\n  \
         name: routeTableName\n  location: location\n  properties: {\n    \
         disableBgpRoutePropagation: disableBgpRoutePropagation\n    routes: [\n",
    );
    for r in routes {
        let _ = writeln!(
            s,
            "      {{\n        name: {}\n        properties: {{",
            bicep_quote(&r.name)
        );
        let _ = writeln!(
            s,
            "          addressPrefix: {}",
            bicep_quote(&r.address_prefix)
        );
        let _ = writeln!(
            s,
            "          nextHopType: {}",
            bicep_quote(r.next_hop.kind())
        );
        if let Some(ip) = r.next_hop.ip() {
            let _ = writeln!(
                s,
                "          nextHopIpAddress: {}",
                bicep_quote(&ip.to_string())
            );
        }
        s.push_str("        }\n      }\n");
    }
    s.push_str("    ]\n  }\n}\n\noutput routeTableId string = routeTable.id\n");
    s
}

/// Terraform (azurerm) with one `azurerm_route_table` and a `route` block per route.
pub fn terraform(routes: &[Route], header: &Header) -> String {
    let mut s = String::new();
    for l in &header.lines {
        let _ = writeln!(s, "# {}", l.replace('\n', " "));
    }
    s.push_str(
        "variable \"resource_group_name\" {\n  type = string\n}\n\n\
         variable \"location\" {\n  type = string\n}\n\n\
         variable \"route_table_name\" {\n  type = string\n}\n\n\
         resource \"azurerm_route_table\" \"tagnet\" {\n  \
         name                = var.route_table_name\n  \
         location            = var.location\n  \
         resource_group_name = var.resource_group_name\n",
    );
    for r in routes {
        let _ = writeln!(
            s,
            "\n  route {{\n    name           = {}",
            hcl_quote(&r.name)
        );
        let _ = writeln!(s, "    address_prefix = {}", hcl_quote(&r.address_prefix));
        let _ = writeln!(s, "    next_hop_type  = {}", hcl_quote(r.next_hop.kind()));
        if let Some(ip) = r.next_hop.ip() {
            let _ = writeln!(
                s,
                "    next_hop_in_ip_address = {}",
                hcl_quote(&ip.to_string())
            );
        }
        s.push_str("  }\n");
    }
    s.push_str("}\n");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_cannot_break_out() {
        assert_eq!(sh_quote("a'b"), r"'a'\''b'");
        assert_eq!(bicep_quote("a'${x}\\"), r"'a\'\${x}\\'");
        assert_eq!(hcl_quote("a\"${x}"), r#""a\"$${x}""#);
    }
}
