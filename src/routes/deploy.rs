//! Deployment renderers for a route set: an `az` script, an ARM template, Bicep and Terraform.
//!
//! Every output is safe to run against a production route table as it is:
//! - By default ([`Layout::Routes`]) the ARM, Bicep and Terraform outputs declare each route as
//!   a child resource of an existing table (`Microsoft.Network/routeTables/routes`,
//!   `azurerm_route`): deploying them adds or updates tagnet's routes and leaves every other
//!   route — the `0.0.0.0/0` to the firewall above all — in place.
//! - [`Layout::WholeTable`] writes the table itself, with the routes inline, and then the
//!   default route must be stated, so forced tunneling is never switched off by accident.
//! - The `az` script reads the table as it really is when it runs: a route that already holds
//!   one of the prefixes (under any name) is updated in place rather than created again (Azure
//!   refuses two routes with one prefix); creations run before deletions when the table holds
//!   both at once (a replaced route goes only once its replacement is in place), else
//!   deletions make room first; and it stops before changing anything when the table would
//!   exceed its route limit or a route name is taken.
//!
//! Each renderer returns the whole text; every value is quoted for its language, so a route
//! name or prefix can never break out of its string.

use super::{NextHop, Route};
use serde_json::json;
use std::fmt::Write;

/// Context printed at the top of each file.
#[derive(Debug, Clone, Default)]
pub struct Header {
    /// Lines of explanation (tags, regions, snapshot, extra addresses).
    pub lines: Vec<String>,
}

/// What a deployment output owns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Layout {
    /// Only tagnet's routes, as child resources of an existing route table (the default).
    #[default]
    Routes,
    /// The whole route table, routes inline: deploying it replaces every route of the table.
    WholeTable {
        /// The `0.0.0.0/0` route the table must hold (`None`: no default route, so traffic
        /// not matched by a route follows the system routes).
        default_route: Option<NextHop>,
    },
}

/// The name tagnet gives the `0.0.0.0/0` route of a whole table.
pub const DEFAULT_ROUTE_NAME: &str = "default-route";

/// A route the `az` plan deletes, with the prefix it must still have for the deletion to run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deletion {
    /// Route name.
    pub name: String,
    /// Its address prefix when audited; a route that changed since is left alone.
    pub address_prefix: String,
    /// Why it goes.
    pub reason: String,
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

/// The whole-table route list: the routes plus the stated default route.
fn with_default(routes: &[Route], layout: Layout) -> Vec<Route> {
    let mut all = routes.to_vec();
    if let Layout::WholeTable {
        default_route: Some(hop),
    } = layout
    {
        all.insert(
            0,
            Route {
                name: DEFAULT_ROUTE_NAME.into(),
                address_prefix: "0.0.0.0/0".into(),
                next_hop: hop,
                tags: Vec::new(),
            },
        );
    }
    all
}

/// Text that may not hold a tab or a line break (route names, prefixes and IPs never do; the
/// script's data lines are tab-separated).
fn field(s: &str) -> String {
    s.replace(['\t', '\n', '\r'], " ")
}

/// A bash script that makes the route table hold `routes` (created, or updated in place when
/// their prefix is already there under any name) after deleting `delete`; `commented` deletions
/// are listed for review only. The resource group and route table are its two arguments; the
/// limit is `MAX_ROUTES` (default `max_routes`).
///
/// The script reads the table when it runs, so it is right for the table as it is then, not
/// as it was audited: it stops before changing anything when a route name it would create is
/// taken by another prefix, or when the table would end with more than the limit.
pub fn az_plan(
    routes: &[Route],
    delete: &[Deletion],
    commented: &[Deletion],
    header: &Header,
    max_routes: usize,
) -> String {
    let mut s = String::from("#!/usr/bin/env bash\n");
    for l in &header.lines {
        let _ = writeln!(s, "# {}", l.replace('\n', " "));
    }
    s.push_str(
        "# Adds or updates only the routes listed below and deletes only those listed for deletion;\n\
         # a route that already holds one of the prefixes is updated in place. It stops before any\n\
         # change when the table would exceed MAX_ROUTES or a route name is taken by another prefix.\n",
    );
    let _ = write!(
        s,
        "set -euo pipefail\n\
         RESOURCE_GROUP=\"${{1:?usage: $0 RESOURCE_GROUP ROUTE_TABLE}}\"\n\
         ROUTE_TABLE=\"${{2:?usage: $0 RESOURCE_GROUP ROUTE_TABLE}}\"\n\
         MAX_ROUTES=\"${{MAX_ROUTES:-{max_routes}}}\"\n\n"
    );
    s.push_str("# name, address prefix, next hop type, next hop IP (tab-separated)\nROUTES=");
    let rows: Vec<String> = routes
        .iter()
        .map(|r| {
            format!(
                "{}\t{}\t{}\t{}",
                field(&r.name),
                field(&r.address_prefix),
                r.next_hop.kind(),
                r.next_hop.ip().map(|i| i.to_string()).unwrap_or_default()
            )
        })
        .collect();
    let _ = writeln!(s, "{}", sh_quote(&rows.join("\n")));
    s.push_str("# routes to delete: name, the address prefix it must still have\nDELETES=");
    let rows: Vec<String> = delete
        .iter()
        .map(|d| format!("{}\t{}", field(&d.name), field(&d.address_prefix)))
        .collect();
    let _ = writeln!(s, "{}", sh_quote(&rows.join("\n")));
    for d in delete {
        let _ = writeln!(
            s,
            "#   delete {}: {}",
            field(&d.name),
            d.reason.replace('\n', " ")
        );
    }
    if !commented.is_empty() {
        s.push_str(
            "# For review (rerun with --prune to delete them; or move them into DELETES):\n",
        );
        for d in commented {
            let _ = writeln!(
                s,
                "#   {}\t{}\t{}",
                field(&d.name),
                field(&d.address_prefix),
                d.reason.replace('\n', " ")
            );
        }
    }
    s.push_str(AZ_RUNNER);
    s
}

/// The fixed part of every `az` script: read the table, decide, check, then act.
const AZ_RUNNER: &str = r#"
rt() {
  az network route-table route "$@" --resource-group "$RESOURCE_GROUP" --route-table-name "$ROUTE_TABLE"
}

EXISTING="$(rt list --query '[].[name, addressPrefix, nextHopType, nextHopIpAddress]' --output tsv)"

# Decide every action (lines `action|name|prefix|next hop|IP|old IP`) against the table as it is now, before changing anything.
ACTIONS="$(
  {
    printf '%s\n' "$EXISTING" | awk '{ print "E\t" $0 }'
    printf '%s\n' "$DELETES" | awk '{ print "D\t" $0 }'
    printf '%s\n' "$ROUTES" | awk '{ print "R\t" $0 }'
  } | awk -F '\t' -v max="$MAX_ROUTES" '
    # A prefix in canonical form: IPv4 octets and IPv6 groups without leading zeros, IPv6 in
    # lower case with `::` expanded, so `2603:1030:40C:1::2C0/122` is the route of
    # `2603:1030:40c:1::2c0/122` (Azure refuses the second one as a RouteConflict).
    function canon(p,   a, n, addr, len, g, i, k, head, tail, h, t, nh, nt, out, x) {
      n = split(p, a, "/"); addr = tolower(a[1]); len = (n > 1 ? "/" (a[2] + 0) : "")
      if (index(addr, ":") == 0) {
        n = split(addr, g, "."); out = ""
        for (i = 1; i <= n; i++) out = out (i > 1 ? "." : "") (g[i] + 0)
        return out len
      }
      k = index(addr, "::")
      if (k) { head = substr(addr, 1, k - 1); tail = substr(addr, k + 2) } else { head = addr; tail = "" }
      nh = (head == "" ? 0 : split(head, h, ":")); nt = (tail == "" ? 0 : split(tail, t, ":"))
      out = ""
      for (i = 1; i <= nh; i++) { x = h[i]; sub(/^0+/, "", x); out = out (x == "" ? "0" : x) ":" }
      for (i = nh + nt; i < 8; i++) out = out "0:"
      for (i = 1; i <= nt; i++) { x = t[i]; sub(/^0+/, "", x); out = out (x == "" ? "0" : x) ":" }
      return substr(out, 1, length(out) - 1) len
    }
    # Azure route names are case-insensitive: names are compared in lower case.
    $1 == "E" && $2 != "" { k = tolower($2); name[k] = $2; prefix[k] = $3; cp[k] = canon($3); hop[k] = $4; ip[k] = ($5 == "None" ? "" : $5); owner[cp[k]] = k; count++; next }
    $1 == "D" && $2 != "" {
      k = tolower($2)
      if (!(k in prefix)) { print "note|" $2 " is not in the table any more"; next }
      if (cp[k] != canon($3)) { print "note|" $2 " now holds " prefix[k] ", not " $3 ": left in place"; next }
      del[++nd] = name[k]; freed[k] = 1; delete owner[cp[k]]; delete prefix[k]; count--; next
    }
    $1 == "R" && $2 != "" {
      c = canon($3)
      if (c in owner) {
        k = owner[c]
        if (hop[k] == $4 && ip[k] == $5) { print "note|" name[k] " already sends " $3 " to " $4; next }
        act[++na] = "update|" name[k] "|" $3 "|" $4 "|" $5 "|" ip[k]; next
      }
      k = tolower($2)
      if (k in prefix) { taken = taken " " name[k] " (holds " prefix[k] ")"; next }
      act[++na] = "create|" $2 "|" $3 "|" $4 "|" $5; name[k] = $2; prefix[k] = $3; cp[k] = c; owner[c] = k; count++
      if (k in freed) reuse = 1
    }
    END {
      if (taken != "") { print "stop|route names already used for other prefixes:" taken "; nothing was changed"; exit }
      if (count > max) { print "stop|the table would hold " count " routes, more than MAX_ROUTES=" max "; nothing was changed"; exit }
      # Creations and updates first, then deletions, when the table holds both at once: a
      # route being replaced goes only once its replacement is in place, and a failed create
      # leaves it. Deletions first when they must make room, or free a name a creation takes.
      if (count + nd <= max && !reuse) {
        for (i = 1; i <= na; i++) print act[i]
        for (i = 1; i <= nd; i++) print "delete|" del[i]
      } else {
        if (nd > 0 && na > 0) print "note|deleting first, to make room under MAX_ROUTES=" max " (or to free a route name)"
        for (i = 1; i <= nd; i++) print "delete|" del[i]
        for (i = 1; i <= na; i++) print act[i]
      }
    }'
)"

if printf '%s\n' "$ACTIONS" | grep -q '^stop'; then
  printf '%s\n' "$ACTIONS" | awk -F '|' '$1 == "stop" { print "error: " $2 }' >&2
  exit 1
fi

while IFS='|' read -r action name prefix hop ip old_ip; do
  case "$action" in
    note) echo "note: $name" >&2 ;;
    delete) echo "deleting $name" >&2; rt delete --name "$name" --output none ;;
    update)
      echo "updating $name ($prefix) to $hop" >&2
      if [ -n "$ip" ]; then
        rt update --name "$name" --next-hop-type "$hop" --next-hop-ip-address "$ip" --output none
      elif [ -n "$old_ip" ]; then
        # `route update` keeps the old next-hop IP, which Azure refuses for this next hop
        # (NextHopIpAddressNotAllowed): write the route whole, under its own name and prefix.
        rt create --name "$name" --address-prefix "$prefix" --next-hop-type "$hop" --output none
      else
        rt update --name "$name" --next-hop-type "$hop" --output none
      fi ;;
    create)
      echo "creating $name ($prefix) to $hop" >&2
      if [ -n "$ip" ]; then
        rt create --name "$name" --address-prefix "$prefix" --next-hop-type "$hop" --next-hop-ip-address "$ip" --output none
      else
        rt create --name "$name" --address-prefix "$prefix" --next-hop-type "$hop" --output none
      fi ;;
  esac
done <<< "$ACTIONS"
"#;

/// The `az` script that adds `routes` to an existing table (see [`az_plan`]).
pub fn az(routes: &[Route], header: &Header, max_routes: usize) -> String {
    az_plan(routes, &[], &[], header, max_routes)
}

fn arm_properties(r: &Route) -> serde_json::Value {
    let mut props = json!({"addressPrefix": r.address_prefix, "nextHopType": r.next_hop.kind()});
    if let Some(ip) = r.next_hop.ip() {
        props["nextHopIpAddress"] = json!(ip.to_string());
    }
    props
}

const ARM_SCHEMA: &str =
    "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#";
const API_VERSION: &str = "2023-09-01";

/// A deployable ARM template. [`Layout::Routes`]: one `Microsoft.Network/routeTables/routes`
/// resource per route (a serial copy loop, as concurrent writes to one table conflict) on the
/// existing table `routeTableName`. [`Layout::WholeTable`]: one `Microsoft.Network/routeTables`
/// resource with every route inline.
pub fn arm(routes: &[Route], header: &Header, layout: Layout) -> String {
    let template = match layout {
        Layout::Routes => json!({
            "$schema": ARM_SCHEMA,
            "contentVersion": "1.0.0.0",
            "metadata": {"generator": "tagnet", "description": header.lines.join(" | ")},
            "parameters": {
                "routeTableName": {"type": "string", "metadata": {"description": "Name of the existing route table; only these routes are added or updated"}}
            },
            "variables": {
                "routes": routes.iter().map(|r| json!({"name": r.name, "properties": arm_properties(r)})).collect::<Vec<_>>()
            },
            "resources": [{
                "type": "Microsoft.Network/routeTables/routes",
                "apiVersion": API_VERSION,
                "name": "[format('{0}/{1}', parameters('routeTableName'), variables('routes')[copyIndex()].name)]",
                "copy": {"name": "tagnetRoutes", "count": "[length(variables('routes'))]", "mode": "serial", "batchSize": 1},
                "properties": "[variables('routes')[copyIndex()].properties]"
            }]
        }),
        Layout::WholeTable { .. } => json!({
            "$schema": ARM_SCHEMA,
            "contentVersion": "1.0.0.0",
            "metadata": {"generator": "tagnet", "description": header.lines.join(" | ")},
            "parameters": {
                "routeTableName": {"type": "string", "metadata": {"description": "Name of the route table; deploying replaces all of its routes"}},
                "location": {"type": "string", "defaultValue": "[resourceGroup().location]"},
                "disableBgpRoutePropagation": {"type": "bool", "defaultValue": false}
            },
            "resources": [{
                "type": "Microsoft.Network/routeTables",
                "apiVersion": API_VERSION,
                "name": "[parameters('routeTableName')]",
                "location": "[parameters('location')]",
                "properties": {
                    "disableBgpRoutePropagation": "[parameters('disableBgpRoutePropagation')]",
                    "routes": with_default(routes, layout).iter()
                        .map(|r| json!({"name": r.name, "properties": arm_properties(r)}))
                        .collect::<Vec<_>>()
                }
            }]
        }),
    };
    let mut s = serde_json::to_string_pretty(&template).expect("values serialise");
    s.push('\n');
    s
}

fn bicep_route(s: &mut String, r: &Route, indent: &str) {
    let _ = writeln!(s, "{indent}{{");
    let _ = writeln!(s, "{indent}  name: {}", bicep_quote(&r.name));
    let _ = writeln!(s, "{indent}  properties: {{");
    let _ = writeln!(
        s,
        "{indent}    addressPrefix: {}",
        bicep_quote(&r.address_prefix)
    );
    let _ = writeln!(
        s,
        "{indent}    nextHopType: {}",
        bicep_quote(r.next_hop.kind())
    );
    if let Some(ip) = r.next_hop.ip() {
        let _ = writeln!(
            s,
            "{indent}    nextHopIpAddress: {}",
            bicep_quote(&ip.to_string())
        );
    }
    let _ = writeln!(s, "{indent}  }}");
    let _ = writeln!(s, "{indent}}}");
}

/// A Bicep file. [`Layout::Routes`]: the existing table and one child route per entry (added
/// one at a time). [`Layout::WholeTable`]: the table with every route inline.
pub fn bicep(routes: &[Route], header: &Header, layout: Layout) -> String {
    let mut s = String::new();
    for l in &header.lines {
        let _ = writeln!(s, "// {}", l.replace('\n', " "));
    }
    match layout {
        Layout::Routes => {
            s.push_str(
                "@description('Name of the existing route table; only these routes are added or updated')\n\
                 param routeTableName string\n\nvar routes = [\n",
            );
            for r in routes {
                bicep_route(&mut s, r, "  ");
            }
            let _ = write!(
                s,
                "]\n\n\
                 resource routeTable 'Microsoft.Network/routeTables@{API_VERSION}' existing = {{\n  \
                 name: routeTableName\n}}\n\n\
                 @batchSize(1)\n\
                 resource tagnetRoutes 'Microsoft.Network/routeTables/routes@{API_VERSION}' = [for route in routes: {{\n  \
                 parent: routeTable\n  name: route.name\n  properties: route.properties\n}}]\n"
            );
        }
        Layout::WholeTable { .. } => {
            let _ = write!(
                s,
                "@description('Name of the route table; deploying replaces all of its routes')\n\
                 param routeTableName string\n\
                 param location string = resourceGroup().location\n\
                 param disableBgpRoutePropagation bool = false\n\n\
                 resource routeTable 'Microsoft.Network/routeTables@{API_VERSION}' = {{\n  \
                 name: routeTableName\n  location: location\n  properties: {{\n    \
                 disableBgpRoutePropagation: disableBgpRoutePropagation\n    routes: [\n"
            );
            for r in with_default(routes, layout) {
                bicep_route(&mut s, &r, "      ");
            }
            s.push_str("    ]\n  }\n}\n\noutput routeTableId string = routeTable.id\n");
        }
    }
    s
}

/// Writes a block's single-line attributes with their `=` aligned as `terraform fmt` does
/// (one group: no blank line or nested block between them).
fn hcl_attrs(s: &mut String, indent: &str, attrs: &[(&str, String)]) {
    let width = attrs.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
    for (k, v) in attrs {
        let _ = writeln!(s, "{indent}{k:width$} = {v}");
    }
}

fn hcl_variable(s: &mut String, name: &str, kind: &str, default: Option<&str>) {
    let _ = writeln!(s, "variable \"{name}\" {{");
    let mut attrs = vec![("type", kind.to_string())];
    if let Some(d) = default {
        attrs.push(("default", d.to_string()));
    }
    hcl_attrs(s, "  ", &attrs);
    s.push_str("}\n\n");
}

const TF_PROVIDER: &str = "terraform {\n  required_providers {\n    azurerm = {\n      source  = \"hashicorp/azurerm\"\n      version = \">= 4.0\"\n    }\n  }\n}\n\n";

/// Terraform (azurerm 4.x), formatted as `terraform fmt` leaves it. [`Layout::Routes`]: one
/// `azurerm_route` per route (`for_each`) on an existing table. [`Layout::WholeTable`]: an
/// `azurerm_route_table` with inline `route` blocks and its BGP propagation setting.
pub fn terraform(routes: &[Route], header: &Header, layout: Layout) -> String {
    let mut s = String::new();
    for l in &header.lines {
        let _ = writeln!(s, "# {}", l.replace('\n', " "));
    }
    s.push_str(TF_PROVIDER);
    hcl_variable(&mut s, "resource_group_name", "string", None);
    hcl_variable(&mut s, "route_table_name", "string", None);
    match layout {
        Layout::Routes => {
            s.push_str("locals {\n  tagnet_routes = {\n");
            let keys: Vec<String> = routes.iter().map(|r| hcl_quote(&r.name)).collect();
            let width = keys.iter().map(String::len).max().unwrap_or(0);
            for (k, r) in keys.iter().zip(routes) {
                let _ = writeln!(s, "    {k:width$} = {}", hcl_quote(&r.address_prefix));
            }
            s.push_str("  }\n}\n\nresource \"azurerm_route\" \"tagnet\" {\n");
            let hop = routes.first().map_or(NextHop::Internet, |r| r.next_hop);
            let mut attrs = vec![
                ("for_each", "local.tagnet_routes".to_string()),
                ("name", "each.key".to_string()),
                ("resource_group_name", "var.resource_group_name".to_string()),
                ("route_table_name", "var.route_table_name".to_string()),
                ("address_prefix", "each.value".to_string()),
                ("next_hop_type", hcl_quote(hop.kind())),
            ];
            if let Some(ip) = hop.ip() {
                attrs.push(("next_hop_in_ip_address", hcl_quote(&ip.to_string())));
            }
            hcl_attrs(&mut s, "  ", &attrs);
            s.push_str("}\n");
        }
        Layout::WholeTable { .. } => {
            hcl_variable(&mut s, "location", "string", None);
            hcl_variable(
                &mut s,
                "bgp_route_propagation_enabled",
                "bool",
                Some("true"),
            );
            s.push_str("resource \"azurerm_route_table\" \"tagnet\" {\n");
            hcl_attrs(
                &mut s,
                "  ",
                &[
                    ("name", "var.route_table_name".into()),
                    ("location", "var.location".into()),
                    ("resource_group_name", "var.resource_group_name".into()),
                    (
                        "bgp_route_propagation_enabled",
                        "var.bgp_route_propagation_enabled".into(),
                    ),
                ],
            );
            for r in with_default(routes, layout) {
                s.push_str("\n  route {\n");
                let mut attrs = vec![
                    ("name", hcl_quote(&r.name)),
                    ("address_prefix", hcl_quote(&r.address_prefix)),
                    ("next_hop_type", hcl_quote(r.next_hop.kind())),
                ];
                if let Some(ip) = r.next_hop.ip() {
                    attrs.push(("next_hop_in_ip_address", hcl_quote(&ip.to_string())));
                }
                hcl_attrs(&mut s, "    ", &attrs);
                s.push_str("  }\n");
            }
            s.push_str("}\n");
        }
    }
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

    #[test]
    fn hcl_attributes_align_like_terraform_fmt() {
        let mut s = String::new();
        hcl_attrs(
            &mut s,
            "  ",
            &[
                ("name", "\"a\"".into()),
                ("next_hop_in_ip_address", "\"b\"".into()),
            ],
        );
        assert_eq!(
            s,
            "  name                   = \"a\"\n  next_hop_in_ip_address = \"b\"\n"
        );
    }
}
