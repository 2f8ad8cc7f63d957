//! Raw command-line flags (clap). Validation into library calls happens in the commands.

use super::render::Format;
use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

const EXIT_CODES: &str = "\
Exit status, by command (every command: 2 for an error, naming what, where and how to fix it):
  lookup, tags, prefixes   0 something matched or was listed; 1 nothing
  udr                      1 the plan cannot fit --max-routes (with --exact, or only by covering
                           forbidden space)
  routes audit             1 required addresses do not leave through Internet, or over the limit
  path                     1 the flow (or a requirement of --profile) does not get through
  nsg verify / require     1 a flow is denied / a requirement is not fully met
  nsg reach / analyze      1 nothing is allowed / a warning or error finding
  check                    1 an error-level finding remains after --deny/--warn/--allow
  flows verify             1 an error-severity drift, or nothing judged (no tuple logged by
                           the NSGs given)
  diff                     1 the route table (--route-table) needs action, or the change
                           breaks a flow of --nsg's requirement profile
  overlaps / aggregate     1 overlapping prefixes found / cannot fit --max
  snapshots                1 the cache holds none
  history                  1 nothing changed over the weeks read
  nsg from-classbench      1 lines were not converted
  others                   0 success";

/// The commands of `--help`, by job: (heading, commands).
pub const GROUPS: &[(&str, &[&str])] = &[
    (
        "Look up",
        &["lookup", "tags", "prefixes", "info", "regions", "map"],
    ),
    ("Routes", &["udr", "routes", "path"]),
    ("NSGs", &["nsg"]),
    ("Check a deployment", &["check", "explain"]),
    ("Flow logs", &["flows"]),
    ("Stay current", &["fetch", "snapshots", "diff", "history"]),
    ("Firewalls", &["export"]),
    ("Serve", &["serve"]),
    ("Prefix lists", &["aggregate", "overlaps"]),
    ("Shell", &["completions", "man"]),
];

/// `--parameters FILE`, also as `az deployment group create` takes it (`@FILE`); `az`'s
/// inline `NAME=VALUE` pairs are refused with the file to write instead.
fn parameters_file(text: &str) -> Result<std::path::PathBuf, String> {
    let path = std::path::Path::new(text);
    if path.exists() {
        return Ok(path.to_path_buf());
    }
    if let Some(file) = text.strip_prefix('@') {
        return Ok(file.into());
    }
    if text.trim_start().starts_with('{') {
        return Err(
            "inline JSON (as `az` takes it) is not read: write it into a file and give its name (`--parameters params.json`)".into(),
        );
    }
    if let Some((name, value)) = text.split_once('=')
        && !name.is_empty()
        && !name.contains(['/', '\\'])
    {
        return Err(format!(
            "`{text}` is `az`'s inline NAME=VALUE form; tagnet reads a parameters file: write {{\"parameters\": {{\"{name}\": {{\"value\": \"{value}\"}}}}}} into one and give its name"
        ));
    }
    Ok(path.to_path_buf())
}

/// The formats each command writes, by its name (`nsg verify`), with what narrows them: what
/// its `--help` lists for `--format` and what `run` refuses before the command starts. A
/// command not listed (`fetch` reports, `serve`, `completions`, `man`, `flows synth`) writes
/// no formatted answer of its own beyond table, json, ndjson, csv and markdown.
pub const FORMATS: &[(&str, &[Format], &str)] = {
    use Format::*;
    const PLAIN: &[Format] = &[Table, Json, Ndjson, Csv, Markdown];
    const ROWS: &[Format] = &[Table, Json, Ndjson, Csv];
    &[
        ("info", PLAIN, ""),
        ("tags", PLAIN, ""),
        ("prefixes", PLAIN, ""),
        ("lookup", ROWS, ""),
        ("regions", PLAIN, ""),
        (
            "udr",
            &[
                Table, Json, Ndjson, Csv, Markdown, Az, Arm, Bicep, Terraform,
            ],
            "",
        ),
        (
            "routes audit",
            &[Table, Json, Ndjson, Csv, Markdown, Az],
            " (az: the commands that fix the table)",
        ),
        (
            "path",
            &[Table, Json, Ndjson, Csv, Sarif],
            " (sarif with --profile; ndjson and csv with --flows)",
        ),
        ("nsg verify", ROWS, ""),
        ("nsg require", PLAIN, ""),
        ("nsg reach", PLAIN, ""),
        (
            "nsg analyze",
            &[Table, Json, Ndjson, Csv, Markdown, Sarif],
            "",
        ),
        (
            "nsg from-classbench",
            &[Table, Json],
            " (both write the NSG as JSON)",
        ),
        ("check", &[Table, Json, Ndjson, Csv, Markdown, Sarif], ""),
        ("explain", PLAIN, ""),
        ("flows attribute", ROWS, ""),
        ("flows verify", ROWS, ""),
        ("fetch", PLAIN, ""),
        ("snapshots", PLAIN, ""),
        (
            "diff",
            &[Table, Json, Ndjson, Csv, Markdown, Az],
            " (az with --route-table: the table's plan)",
        ),
        ("history", PLAIN, ""),
        (
            "export",
            &[Table],
            " (the default; --as names what is written)",
        ),
        ("aggregate", PLAIN, ""),
        ("overlaps", PLAIN, ""),
        (
            "map",
            &[Table, Svg, Png],
            " (table, the default, draws svg)",
        ),
    ]
};

/// The formats `name` writes, as its help says them.
pub fn formats_text(formats: &[Format], note: &str) -> String {
    let names: Vec<&str> = formats.iter().map(|f| f.name()).collect();
    format!("{}{note}", names.join(", "))
}

/// Ends each command's help with the formats it writes (the global `--format` lists every
/// command's).
fn formats_help(mut cmd: clap::Command) -> clap::Command {
    for (name, formats, note) in FORMATS {
        let line = format!("Formats (--format): {}", formats_text(formats, note));
        let mut words = name.split(' ');
        let first = words.next().unwrap_or_default();
        let second = words.next();
        let set = |c: clap::Command| {
            let text = match c.get_after_help() {
                Some(h) => format!("{line}\n\n{h}"),
                None => line.clone(),
            };
            let long = match c.get_after_long_help() {
                Some(h) => format!("{line}\n\n{h}"),
                None => text.clone(),
            };
            c.after_help(text).after_long_help(long)
        };
        cmd = match second {
            None => cmd.mut_subcommand(first, set),
            Some(s) => cmd.mut_subcommand(first, |c| c.mut_subcommand(s, set)),
        };
    }
    cmd
}

/// The command line with `--help` listing the commands by job (clap lists them in one run).
pub fn command() -> clap::Command {
    use clap::CommandFactory;
    let cmd = Cli::command();
    let width = GROUPS
        .iter()
        .flat_map(|(_, names)| names.iter())
        .map(|n| n.len())
        .max()
        .unwrap_or(0);
    let mut text = String::new();
    for (i, (heading, names)) in GROUPS.iter().enumerate() {
        if i > 0 {
            text.push('\n');
        }
        text.push_str(&format!("{heading}:\n"));
        for name in *names {
            let about = cmd
                .find_subcommand(name)
                .and_then(|c| c.get_about())
                .map(|a| a.to_string())
                .unwrap_or_default();
            // The first sentence, wrapped at 100 columns: the rest is in `tagnet NAME --help`.
            let first = about
                .split(". ")
                .next()
                .unwrap_or(&about)
                .trim_end_matches('.');
            let mut line = format!("  {name:width$} ");
            let indent = line.len();
            for word in first.split(' ') {
                if line.chars().count() + 1 + word.chars().count() > 100 && line.len() > indent {
                    text.push_str(line.trim_end());
                    text.push('\n');
                    line = " ".repeat(indent);
                }
                line.push(' ');
                line.push_str(word);
            }
            text.push_str(line.trim_end());
            text.push('\n');
        }
    }
    formats_help(cmd.help_template(format!(
        "{{before-help}}{{about-with-newline}}\n{{usage-heading}} {{usage}}\n\n{text}\nOptions:\n{{options}}{{after-help}}"
    )))
}

/// Azure service-tag and IP-range analysis: which tags hold an address, which prefixes a
/// region's tags have, offline, on Microsoft's weekly service-tag file.
#[derive(Debug, Parser)]
#[command(name = "tagnet", version = tagnet::load::builtin::VERSION_LINE, after_help = EXIT_CODES)]
pub struct Cli {
    /// Service-tag snapshot: a file (the weekly ServiceTags_<Cloud>_<date>.json download or
    /// `az network list-service-tags` output), `-` for standard input, `latest` or `cnNNN` from
    /// the cache, or `builtin`. Default: TAGNET_TAGS (empty counts as unset), else the newest
    /// cached Public snapshot when it is not older than the built-in one, else the built-in
    /// one (`latest` and its `cnNNN` name it too).
    #[arg(
        long,
        global = true,
        help_heading = "Global options",
        value_name = "PATH|-|latest|cnNNN|builtin"
    )]
    pub tags: Option<PathBuf>,

    /// Another provider's published ranges, answered beside Azure's: AWS ip-ranges.json,
    /// Google cloud.json or goog.json, Oracle public_ip_ranges.json, GitHub's meta (told by
    /// shape), or a plain list named by its provider (`cloudflare=ips-v4.txt`). Repeatable.
    /// Default: TAGNET_SOURCES (paths separated by the platform's path separator).
    #[arg(
        long = "source",
        global = true,
        help_heading = "Global options",
        value_name = "[PROVIDER=]FILE"
    )]
    pub sources: Vec<String>,

    /// Your own named ranges (custom tags), answered like service tags: JSON
    /// `{"NAME": ["PREFIX", …]}`, CSV `name,prefix[,region[,description]]`, or a TOML file's
    /// `[tags]` table; `./tagnet.toml`'s `[tags]` is read without it. Repeatable. Default:
    /// TAGNET_CUSTOM. A name a Microsoft tag has is refused.
    #[arg(
        long = "custom",
        global = true,
        help_heading = "Global options",
        value_name = "FILE"
    )]
    pub custom: Vec<PathBuf>,

    /// Output format: table by default (`map`: svg); each command's `--help` ends with the
    /// formats it writes.
    #[arg(long, global = true, help_heading = "Global options", value_enum, ignore_case = true, default_value_t = Format::Table, hide_default_value = true)]
    pub format: Format,

    /// Write the output to FILE (atomically: a failed run leaves no half-written file).
    #[arg(
        long,
        short,
        global = true,
        help_heading = "Global options",
        value_name = "FILE"
    )]
    pub output: Option<PathBuf>,

    /// Print less on standard error: no load warnings (host bits set, repeated prefixes), no
    /// snapshot age, no summary lines (a route budget, a flow tally). Errors, the input's own
    /// faults (bad flow lines) and notes on what an answer leaves out are still printed.
    #[arg(long, short, global = true, help_heading = "Global options")]
    pub quiet: bool,

    /// Never touch the network (`fetch` refuses; everything else is offline anyway).
    #[arg(long, global = true, help_heading = "Global options")]
    pub offline: bool,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Every tag holding each address, with the matching prefix; output keeps input order.
    Lookup(LookupArgs),
    /// List tags with region, service, IPv4/IPv6 prefix counts and networkFeatures, by name.
    Tags(TagsArgs),
    /// The union of the tags' prefixes, sorted (IPv4 first, by address then length).
    Prefixes(PrefixesArgs),
    /// Cloud, change number, and tag, region and prefix counts per family.
    Info,
    /// Every region of the snapshot: its code, display name, the spellings tagnet accepts, and
    /// its number of tags and prefixes.
    Regions,
    /// The user-defined routes a region's compute needs under forced tunneling.
    Udr(UdrArgs),
    /// Route-table checks.
    #[command(subcommand)]
    Routes(RoutesCommand),
    /// Will a flow get there: routes and NSGs of a network definition evaluated together, as
    /// Azure's data plane decides — to an address, to every address of a service tag, or every
    /// flow of a requirement profile (--profile). Exit 1 when it does not get through.
    Path(PathArgs),
    /// Network security groups: is a flow allowed, and by which rule.
    #[command(subcommand)]
    Nsg(NsgCommand),
    /// Apply the ML-in-a-VNet guidance to a network definition before it is deployed: `az`
    /// JSON, ARM templates or Terraform plans (files or folders). Exit 1 on any error-level
    /// finding.
    Check(CheckArgs),
    /// What a finding code means, why it matters and how to fix it.
    Explain(ExplainArgs),
    /// Azure flow logs (VNet and NSG): attribute each flow's remote address to service tags,
    /// and re-check logged flows against the NSGs you hold.
    #[command(subcommand)]
    Flows(FlowsCommand),
    /// Download the current service-tag file (or ask the Discovery API) into the cache.
    Fetch(FetchArgs),
    /// List the cached snapshots: cloud, changeNumber, date, path, size.
    Snapshots,
    /// What changed between two snapshots, per tag, and what it means for a route table.
    /// Exit 1 when the route table needs action.
    Diff(DiffArgs),
    /// Answer lookups, route plans and NSG checks over HTTP (JSON API under /v1, a web page at
    /// /), swapping in a newer snapshot without a restart; /v1/changes and /v1/changes.atom
    /// are a feed of the cached weeks' changes.
    Serve(ServeArgs),
    /// Merge prefixes (lines `PREFIX` or `LABEL PREFIX`) exactly, or within --max N prefixes.
    Aggregate(AggregateArgs),
    /// A selection of tags (Azure's, other providers', your own) as firewall objects: plain
    /// CIDR lists, Palo Alto external dynamic lists, FortiGate objects, nftables sets, ipset
    /// restore files, Azure Firewall IP Groups (ARM, Bicep, Terraform); with --since, the
    /// change from an older snapshot (nftables, ipset, plain).
    Export(ExportArgs),
    /// When an address, a prefix or a tag's prefixes joined or left each tag, over every
    /// cached week (`tagnet fetch`) or the snapshots given. Exit 1 when nothing changed.
    History(HistoryArgs),
    /// Every pair of prefixes (lines `PREFIX` or `LABEL PREFIX`) where one contains or equals
    /// the other. Exit 1 when any pair is found.
    Overlaps(OverlapsArgs),
    /// Print a shell completion script (bash, zsh, fish, powershell, elvish).
    Completions(CompletionsArgs),
    /// Draw the IPv4 space (a cell a /16, along a Hilbert curve) as SVG or PNG: by service, by
    /// the tags named, by what changed since an earlier snapshot, or by where flow logs'
    /// traffic went; addresses marked.
    Map(MapArgs),
    /// Print manual pages (roff): tagnet's, a command's (`tagnet man nsg verify`), or every
    /// page into a folder (`--dir`).
    Man(ManArgs),
}

#[derive(Debug, Args)]
pub struct FetchArgs {
    /// The cloud: public, usgov, china, germany.
    #[arg(long, default_value = "public")]
    pub cloud: String,
    /// Another provider's published file instead (aws, google, oracle, github, cloudflare),
    /// from its documented address (or --url), into the same cache; stored when its own
    /// version (AWS's and Google's syncToken, Oracle's last_updated_timestamp, else the
    /// content) changed. `--source PROVIDER` then reads the newest.
    #[arg(long, value_name = "PROVIDER", conflicts_with_all = ["api", "file"])]
    pub provider: Option<String>,
    /// Download this file instead of looking up the address on the download page (with
    /// --provider: instead of the provider's documented address; Cloudflare's two lists as
    /// V4_URL,V6_URL).
    #[arg(long, value_name = "URL", conflicts_with = "api")]
    pub url: Option<String>,
    /// Import this local file (JSON or gzip) into the cache, with the checks a download gets
    /// (valid snapshot, the cloud of --cloud, not older than the newest cached one).
    #[arg(long, value_name = "PATH", conflicts_with_all = ["api", "url"])]
    pub file: Option<std::path::PathBuf>,
    /// Store the file even when its changeNumber (a provider's: its syncToken or timestamp)
    /// is older than the newest cached one.
    #[arg(long)]
    pub force: bool,
    /// Cached snapshots of the cloud to keep.
    #[arg(long, default_value_t = 12, value_name = "N", value_parser = positive)]
    pub keep: usize,
    /// Seconds a request may take, body included, before it is given up (and retried).
    #[arg(long, default_value_t = 120, value_name = "SECONDS", value_parser = positive)]
    pub timeout: usize,
    /// Retries on 5xx answers, resets and cut-short downloads.
    #[arg(long, default_value_t = 3)]
    pub retries: u32,
    /// Ask the Service Tag Discovery API instead (needs --subscription and --location, and a
    /// token in AZURE_ACCESS_TOKEN or from --token-from-az).
    #[arg(long, requires_all = ["subscription", "location"])]
    pub api: bool,
    /// Subscription id, with --api.
    #[arg(long, requires = "api")]
    pub subscription: Option<String>,
    /// Location the API answers for (a version reference, not a filter), with --api.
    #[arg(long, requires = "api")]
    pub location: Option<String>,
    /// Get the token by running `az account get-access-token --query accessToken -o tsv`.
    #[arg(long, requires = "api")]
    pub token_from_az: bool,
    /// The management endpoint, with --api (for tests and sovereign clouds).
    #[arg(long, default_value = "https://management.azure.com", requires = "api")]
    pub api_base: String,
}

#[derive(Debug, Args)]
pub struct DiffArgs {
    /// The older snapshot (a file, `-`, `latest`, `cnNNN` or `builtin`).
    pub old: std::path::PathBuf,
    /// The newer snapshot (same forms).
    pub new: std::path::PathBuf,
    /// Only these tags (names or globs; a cloud-wide name includes its regional variants).
    #[arg(long = "tag", value_name = "TAG")]
    pub tag: Vec<String>,
    /// Only tags of these regions (comma-separated); with --route-table, the routes' regions.
    #[arg(long, value_delimiter = ',')]
    pub region: Vec<String>,
    /// Only tags of this systemService.
    #[arg(long)]
    pub service: Vec<String>,
    /// A route table (as `routes audit` reads it): which routes the change makes missing or
    /// stale, and the `udr` routes to add and delete. Needs --region.
    #[arg(long, value_name = "FILE[#NAME]", requires = "region")]
    pub route_table: Option<std::path::PathBuf>,
    /// The subnet's NSG (FILE#NAME picks one of several): which flows of the requirement
    /// profile (--profile) the change breaks or newly lets through, per --region. Exit 1 when
    /// it breaks one.
    #[arg(long, value_name = "FILE[#NAME]", requires = "region")]
    pub nsg: Option<String>,
    /// The NIC's NSG, with --nsg (or alone).
    #[arg(long, value_name = "FILE[#NAME]", requires = "region")]
    pub nic_nsg: Option<String>,
    /// The ARM parameters file for an NSG given as a template (`@FILE` as `az` takes it;
    /// default: the template's own `NAME.parameters*.json` beside it, as `check` pairs them).
    #[arg(long, value_name = "FILE", value_parser = parameters_file)]
    pub parameters: Option<std::path::PathBuf>,
    /// With --nsg: application security group members, NAME=IP[,IP…] (repeatable).
    #[arg(long, value_name = "NAME=IP[,IP…]")]
    pub asg: Vec<String>,
    /// With --nsg: the compute's address (default: the fifth address of the first --vnet
    /// prefix).
    #[arg(long, value_name = "IP")]
    pub local: Option<String>,
    /// The VNet's address space: prefixes (with --route-table), or prefixes and `az network
    /// vnet show` output (with --nsg).
    #[arg(long, value_name = "PREFIX")]
    pub vnet: Vec<String>,
    /// The profile: with --route-table the udr profile (aml-vnet-2020, aml-vnet-2023,
    /// batch-classic), with --nsg the requirement profile (those and batch-simplified).
    #[arg(long)]
    pub profile: Option<String>,
    /// With --route-table: a 0.0.0.0/0 advertised by BGP (VirtualNetworkGateway,
    /// VirtualAppliance:IP, or none).
    #[arg(long, value_name = "VirtualNetworkGateway|VirtualAppliance:IP|none")]
    pub default_route: Option<String>,
    /// With --route-table: the plan deletes stale routes (else lists them for review).
    #[arg(long)]
    pub prune: bool,
    /// With --route-table: audit IPv6 too (IPv4 only without it).
    #[arg(long)]
    pub ipv6: bool,
    /// With --route-table: the table's route limit (default 400; see `udr --max-routes`).
    #[arg(long, value_name = "N")]
    pub max_routes: Option<usize>,
    /// With --route-table: severity of the audit's findings (`[audit]` in tagnet.toml).
    #[command(flatten)]
    pub severity: SeverityArgs,
}

#[derive(Debug, Subcommand)]
pub enum NsgCommand {
    /// Like Network Watcher's IP flow verify, offline: the access, the NSG and the deciding
    /// rule, for one flow or a file of flows. Exit 1 when a flow is denied.
    Verify(NsgVerifyArgs),
    /// Check an NSG (or a subnet-and-NIC pair) against a requirement profile kept with its
    /// Microsoft source, for every address of each tag. Exit 1 when a requirement is not fully
    /// met.
    Require(NsgRequireArgs),
    /// The exact set of remote addresses allowed for a direction, protocol and port, as
    /// prefixes with address counts, and the tags it touches.
    Reach(NsgReachArgs),
    /// Findings over the whole 5-tuple space with tags expanded: rules that can never match,
    /// rules whose removal changes no verdict, opposite rules that partly overlap, unknown
    /// tags. Formats: table, json, ndjson, csv, markdown, sarif. Exit 1 on a warning or error.
    Analyze(NsgAnalyzeArgs),
    /// Convert a ClassBench filter file (the packet-classification benchmark) into an NSG JSON;
    /// lines an NSG cannot express are reported on standard error with their numbers.
    FromClassbench(FromClassbenchArgs),
}

#[derive(Debug, Args)]
pub struct FromClassbenchArgs {
    /// The filter file (`-`: standard input).
    pub input: std::path::PathBuf,
    /// The NSG's name.
    #[arg(long, default_value = "classbench")]
    pub name: String,
    /// The access every rule gets: Allow or Deny.
    #[arg(long, default_value = "Allow")]
    pub access: String,
}

#[derive(Debug, Args)]
pub struct NsgAnalyzeArgs {
    /// NSGs: every NSG of the file (FILE#NAME: one of them).
    #[arg(long, value_name = "FILE[#NAME]", required = true)]
    pub nsg: Vec<String>,
    /// The ARM parameters file for an NSG given as a template (`@FILE` as `az` takes it;
    /// default: the template's own `NAME.parameters*.json` beside it, as `check` pairs them).
    #[arg(long, value_name = "FILE", value_parser = parameters_file)]
    pub parameters: Option<std::path::PathBuf>,
    /// VirtualNetwork: prefixes or `az network vnet show` output (repeatable).
    #[arg(long, value_name = "PREFIX|FILE")]
    pub vnet: Vec<String>,
    /// Application security group members: NAME=IP[,IP…] (repeatable).
    #[arg(long, value_name = "NAME=IP[,IP…]")]
    pub asg: Vec<String>,
    #[command(flatten)]
    pub severity: SeverityArgs,
}

#[derive(Debug, Args)]
pub struct NsgScope {
    /// The subnet's NSG (FILE#NAME picks one of several).
    #[arg(long, value_name = "FILE[#NAME]")]
    pub nsg: Option<String>,
    /// The NIC's NSG.
    #[arg(long, value_name = "FILE[#NAME]")]
    pub nic_nsg: Option<String>,
    /// The ARM parameters file for an NSG given as a template (`@FILE` as `az` takes it;
    /// default: the template's own `NAME.parameters*.json` beside it, as `check` pairs them).
    #[arg(long, value_name = "FILE", value_parser = parameters_file)]
    pub parameters: Option<std::path::PathBuf>,
    /// VirtualNetwork: prefixes or `az network vnet show` output (repeatable).
    #[arg(long, value_name = "PREFIX|FILE")]
    pub vnet: Vec<String>,
    /// Application security group members: NAME=IP[,IP…] (repeatable).
    #[arg(long, value_name = "NAME=IP[,IP…]")]
    pub asg: Vec<String>,
    /// The compute's address (default: the fifth address of the first --vnet prefix, the first
    /// a VM gets).
    #[arg(long, value_name = "IP")]
    pub local: Option<String>,
    /// The subnet's route table (`az network route-table show`, or effective routes): its
    /// UDR (and BGP) prefixes join VirtualNetwork, under each reading Learn leaves open;
    /// `reach` answers the permissive reading and names the others, `require` holds a
    /// requirement met only under every reading.
    #[arg(long, value_name = "FILE[#NAME]")]
    pub route_table: Option<std::path::PathBuf>,
}

#[derive(Debug, Args)]
pub struct NsgRequireArgs {
    #[command(flatten)]
    pub scope: NsgScope,
    /// The region of `<region>` tags.
    #[arg(long)]
    pub region: String,
    /// aml-vnet-2020 (default), aml-vnet-2023, batch-classic, batch-simplified.
    #[arg(long)]
    pub profile: Option<String>,
}

#[derive(Debug, Args)]
pub struct NsgReachArgs {
    #[command(flatten)]
    pub scope: NsgScope,
    /// inbound or outbound.
    #[arg(long)]
    pub direction: String,
    /// Tcp, Udp, Icmp, Esp or Ah.
    #[arg(long)]
    pub protocol: String,
    /// The port: the local port inbound, the remote port outbound (needed with Tcp and Udp).
    #[arg(long)]
    pub port: Option<u16>,
}

#[derive(Debug, Args)]
pub struct NsgVerifyArgs {
    /// The subnet's NSG: `az network nsg show` output, REST or ARM (FILE#NAME picks one of
    /// several).
    #[arg(long, value_name = "FILE[#NAME]")]
    pub nsg: Option<String>,
    /// The NIC's NSG.
    #[arg(long, value_name = "FILE[#NAME]")]
    pub nic_nsg: Option<String>,
    /// The ARM parameters file for an NSG given as a template (`@FILE` as `az` takes it;
    /// default: the template's own `NAME.parameters*.json` beside it, as `check` pairs them).
    #[arg(long, value_name = "FILE", value_parser = parameters_file)]
    pub parameters: Option<std::path::PathBuf>,
    /// VirtualNetwork: a prefix (repeatable: the VNet, peered VNets, on-premises) or
    /// `az network vnet show` output (its space plus its peerings').
    #[arg(long, value_name = "PREFIX|FILE")]
    pub vnet: Vec<String>,
    /// Application security group members: NAME=IP[,IP…] (repeatable).
    #[arg(long, value_name = "NAME=IP[,IP…]")]
    pub asg: Vec<String>,
    /// The subnet's route table: its UDR prefixes join VirtualNetwork under each reading (the
    /// verdict is the permissive one; a note counts the flows whose readings differ).
    #[arg(long, value_name = "FILE[#NAME]")]
    pub route_table: Option<std::path::PathBuf>,
    /// inbound or outbound.
    #[arg(long)]
    pub direction: Option<String>,
    /// Tcp, Udp, Icmp, Esp or Ah.
    #[arg(long)]
    pub protocol: Option<String>,
    /// The VM's address: IP[:PORT] ([IPv6]:PORT).
    #[arg(long, value_name = "IP[:PORT]")]
    pub local: Option<String>,
    /// The other end: IP[:PORT].
    #[arg(long, value_name = "IP[:PORT]")]
    pub remote: Option<String>,
    /// Flows, one a line: CSV direction,protocol,local_ip,local_port,remote_ip,remote_port (a
    /// header is allowed) or NDJSON with those keys (`-`: standard input).
    #[arg(long, value_name = "FILE|-", conflicts_with_all = ["direction", "protocol", "local", "remote"])]
    pub flows: Option<std::path::PathBuf>,
    /// Accept unreadable lines (or tuples): report them and go on with the rest, exit as if
    /// they were not there. Without it, any unreadable one ends the run with exit 2 (a file of
    /// garbage is never a pass).
    #[arg(long)]
    pub skip_bad: bool,
}

#[derive(Debug, Subcommand)]
pub enum FlowsCommand {
    /// One row per flow tuple with the remote address's service, region, tag and prefix;
    /// --summary groups flows, packets and bytes by direction, service, region and decision,
    /// with top talkers and the share of traffic to Azure, private space and the Internet.
    Attribute(FlowsAttributeArgs),
    /// Re-evaluate every logged flow with the NSGs you hold: report where the verdict or the
    /// deciding rule differs from the logged one, and denied flows a requirement profile says
    /// must pass. Exit 1 when any is found.
    Verify(FlowsVerifyArgs),
    /// Write made-up flow-log blobs in Azure's layout, with real addresses of the snapshot's
    /// tags: for trying the flow commands and for tests.
    Synth(FlowsSynthArgs),
}

#[derive(Debug, Args)]
pub struct FlowsAttributeArgs {
    /// Flow-log blobs: PT1H.json files, folders (walked for *.json, in path order), `-` for
    /// standard input.
    #[arg(required = true, value_name = "PATH|-")]
    pub paths: Vec<std::path::PathBuf>,
    /// Totals by direction, service, region and decision, top talkers and shares, instead of
    /// one row per tuple.
    #[arg(long)]
    pub summary: bool,
    /// With --summary: how many top talkers.
    #[arg(long, default_value_t = 10, value_name = "N", requires = "summary")]
    pub top: usize,
    /// With --profile: the region whose forced-tunneling routes to mark.
    #[arg(long, requires = "profile")]
    pub region: Option<String>,
    /// Mark the flows the profile's routes (`tagnet udr --profile P --region R`) would carry
    /// to the Internet under forced tunneling.
    #[arg(long, requires = "region")]
    pub profile: Option<String>,
    /// Accept unreadable lines (or tuples): report them and go on with the rest, exit as if
    /// they were not there. Without it, any unreadable one ends the run with exit 2 (a file of
    /// garbage is never a pass).
    #[arg(long)]
    pub skip_bad: bool,
}

#[derive(Debug, Args)]
pub struct FlowsVerifyArgs {
    /// Flow-log blobs: files, folders, `-`.
    #[arg(required = true, value_name = "PATH|-")]
    pub paths: Vec<std::path::PathBuf>,
    /// The subnet's NSG (FILE#NAME picks one of several).
    #[arg(long, value_name = "FILE[#NAME]")]
    pub nsg: Option<String>,
    /// The NIC's NSG.
    #[arg(long, value_name = "FILE[#NAME]")]
    pub nic_nsg: Option<String>,
    /// The ARM parameters file for an NSG given as a template (`@FILE` as `az` takes it;
    /// default: the template's own `NAME.parameters*.json` beside it, as `check` pairs them).
    #[arg(long, value_name = "FILE", value_parser = parameters_file)]
    pub parameters: Option<std::path::PathBuf>,
    /// VirtualNetwork: prefixes or `az network vnet show` output (repeatable).
    #[arg(long, value_name = "PREFIX|FILE")]
    pub vnet: Vec<String>,
    /// Application security group members: NAME=IP[,IP…] (repeatable).
    #[arg(long, value_name = "NAME=IP[,IP…]")]
    pub asg: Vec<String>,
    /// The subnet's route table: its UDR prefixes join VirtualNetwork under each reading; a
    /// logged decision one reading explains is not drift.
    #[arg(long, value_name = "FILE[#NAME]")]
    pub route_table: Option<std::path::PathBuf>,
    /// With --region: report denied flows this NSG requirement profile says must pass
    /// (aml-vnet-2020, aml-vnet-2023, batch-classic, batch-simplified).
    #[arg(long, requires = "region")]
    pub profile: Option<String>,
    /// The region of the profile's `<region>` tags.
    #[arg(long)]
    pub region: Option<String>,
    /// Every tuple with both verdicts, not only the ones that differ.
    #[arg(long)]
    pub all: bool,
    /// Accept unreadable lines (or tuples): report them and go on with the rest, exit as if
    /// they were not there. Without it, any unreadable one ends the run with exit 2 (a file of
    /// garbage is never a pass).
    #[arg(long)]
    pub skip_bad: bool,
    #[command(flatten)]
    pub severity: SeverityArgs,
}

#[derive(Debug, Args)]
pub struct FlowsSynthArgs {
    /// The folder to write under (created).
    #[arg(long, value_name = "DIR")]
    pub dir: std::path::PathBuf,
    /// vnet (flowLogVersion 4), nsg-v2 or nsg-v1.
    #[arg(long, default_value = "vnet")]
    pub kind: String,
    /// The compute's region.
    #[arg(long, default_value = "westeurope")]
    pub region: String,
    /// Tuples in all (at most 100,000,000; blobs of 60 records a NIC-hour).
    #[arg(long, default_value_t = 100_000, value_parser = clap::value_parser!(u64).range(1..=100_000_000))]
    pub tuples: u64,
    /// Seed: the same seed writes the same blobs.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Decide each flow with this NSG (else Azure's default rules), so that `flows verify`
    /// against it finds no drift.
    #[arg(long, value_name = "FILE[#NAME]")]
    pub nsg: Option<String>,
    /// The ARM parameters file for an NSG given as a template (`@FILE` as `az` takes it;
    /// default: the template's own `NAME.parameters*.json` beside it, as `check` pairs them).
    #[arg(long, value_name = "FILE", value_parser = parameters_file)]
    pub parameters: Option<std::path::PathBuf>,
    /// The VNet's address space: its first IPv4 prefix gives the NICs' addresses (`.4`, `.5`;
    /// default 10.0.0.0), and it is VirtualNetwork for --nsg.
    #[arg(long, value_name = "PREFIX|FILE")]
    pub vnet: Vec<String>,
}

#[derive(Debug, Args)]
pub struct MapArgs {
    /// Colour by how much of each /16 these tags hold (repeatable); default: by service.
    #[arg(long = "tag", value_name = "TAG")]
    pub tag_names: Vec<String>,
    /// With --tag: the region's variants of cloud-wide tags.
    #[arg(long, value_name = "REGION", requires = "tag_names")]
    pub region: Option<String>,
    /// Mark an address (repeatable).
    #[arg(long = "mark", value_name = "IP")]
    pub marks: Vec<String>,
    /// Colour what joined and left the tags since this earlier snapshot (a file, `cnNNN`).
    #[arg(long, value_name = "SNAPSHOT", conflicts_with_all = ["tag_names", "flows"])]
    pub since: Option<PathBuf>,
    /// Colour by the bytes flow logs exchanged with each /16 (files or folders, repeatable).
    #[arg(long = "flows", value_name = "PATH", conflicts_with = "tag_names")]
    pub flows: Vec<PathBuf>,
    /// With --flows: skip unreadable tuples instead of refusing them.
    #[arg(long, requires = "flows")]
    pub skip_bad: bool,
}

#[derive(Debug, Clone, Args)]
pub struct ManArgs {
    /// The command whose page to print (`udr`, `nsg verify`); none: tagnet's own page.
    #[arg(value_name = "COMMAND")]
    pub command: Vec<String>,
    /// Write every page (tagnet.1, tagnet-udr.1, tagnet-nsg-verify.1, …) into DIR instead.
    #[arg(long, value_name = "DIR", conflicts_with = "command")]
    pub dir: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell.
    #[arg(value_enum, ignore_case = true)]
    pub shell: clap_complete::Shell,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address and port to listen on (another address than loopback only when given).
    #[arg(long, default_value = "127.0.0.1:8080", value_name = "ADDR:PORT")]
    pub listen: std::net::SocketAddr,
    /// The most addresses or flows of one request.
    #[arg(long, default_value_t = 1_000_000, value_name = "N", value_parser = positive)]
    pub max_batch: usize,
    /// A file holding a bearer token every request but /healthz must carry.
    #[arg(long, value_name = "FILE")]
    pub token_file: Option<std::path::PathBuf>,
    /// Seconds between looks for a newer snapshot (in the cache, or the --tags file); 0: only
    /// on SIGHUP.
    #[arg(long, default_value_t = 60, value_name = "SECONDS")]
    pub watch: u64,
    /// Download the newest snapshot into the cache this often (e.g. 24h, 90m; off by
    /// default; never with --offline).
    #[arg(long, value_name = "INTERVAL")]
    pub refresh: Option<String>,
    /// Seconds a request may take (its work stops after it).
    #[arg(long, default_value_t = 30, value_name = "SECONDS", value_parser = seconds)]
    pub timeout: usize,
    /// The largest request body, in MiB (an announced larger one is refused before it is read).
    #[arg(long, default_value_t = 64, value_name = "MIB", value_parser = mib)]
    pub body_limit: usize,
    /// The largest answer, in MiB, checked while it is written: a larger one is refused with
    /// 413 (lookups and prefixes can be paged with `limit` and `cursor` instead).
    #[arg(long, default_value_t = 128, value_name = "MIB", value_parser = mib)]
    pub max_answer: usize,
    /// Seconds a client may take to send a request's headers, and then its body.
    #[arg(long, default_value_t = 10, value_name = "SECONDS", value_parser = seconds)]
    pub read_timeout: usize,
    /// Seconds sending an answer may stall (the client takes no byte) before its connection
    /// is closed.
    #[arg(long, default_value_t = 30, value_name = "SECONDS", value_parser = seconds)]
    pub write_timeout: usize,
    /// The memory kept for answers being sent, in MiB: an answer that does not fit is refused
    /// (503 busy) rather than kept for a client that reads slowly or not at all.
    #[arg(long, default_value_t = 512, value_name = "MIB", value_parser = mib)]
    pub max_answer_memory: usize,
    /// The most connections open at once; past it, new ones wait (and it is logged). Default:
    /// 128 below the open-file limit, at most 4,096.
    #[arg(long, value_name = "N", value_parser = positive)]
    pub max_connections: Option<usize>,
    /// The most requests one endpoint computes at once (others wait up to --read-timeout for a
    /// turn, then get 503). Default: the number of cores, at least 2.
    #[arg(long, value_name = "N", value_parser = positive)]
    pub max_concurrent: Option<usize>,
}

#[derive(Debug, Args)]
pub struct PathArgs {
    /// Files or folders defining the network: `az … show -o json` output, ARM templates,
    /// `terraform show -json` plans (as `check` reads them).
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<std::path::PathBuf>,
    /// The source: a subnet (`VNET/SUBNET`, its id, or a unique name: its first usable
    /// address) or an address in one of the inputs' subnets (a NIC's address picks its NSG).
    #[arg(long, value_name = "SUBNET|IP", required_unless_present = "flows")]
    pub from: Option<String>,
    /// The destination: IP, IP:PORT, or a service tag (every address of it).
    #[arg(long, value_name = "IP[:PORT]|TAG", required_unless_present_any = ["profile", "flows"])]
    pub to: Option<String>,
    /// Many flows: a file (`-` for standard input) of lines FROM,TO[:PORT][,PROTOCOL[,PORT]],
    /// one row each (table, json, ndjson or csv; ndjson and csv stream).
    #[arg(long, value_name = "FILE", conflicts_with_all = ["to", "profile", "from", "port", "protocol", "effective_routes"])]
    pub flows: Option<std::path::PathBuf>,
    /// The protocol: tcp, udp, icmp, esp or ah.
    #[arg(long, default_value = "tcp", value_name = "PROTOCOL")]
    pub protocol: String,
    /// The destination port (tcp and udp), unless --to gives it.
    #[arg(long, value_name = "PORT")]
    pub port: Option<u16>,
    /// Check every flow of an NSG requirement profile end to end (see `nsg require`): inbound
    /// flows need the NSG's allow and replies routed to the Internet; outbound ones the NSG's
    /// allow and a route that does not drop them.
    #[arg(long, value_name = "NAME", conflicts_with = "to")]
    pub profile: Option<String>,
    /// The region of the profile's regional tags (default: the source VNet's location).
    #[arg(long, value_name = "REGION")]
    pub region: Option<String>,
    /// A route a gateway advertises by BGP, PREFIX=HOP (repeatable), e.g.
    /// 0.0.0.0/0=VirtualNetworkGateway or 10.50.0.0/16=VirtualNetworkGateway; the prefix may
    /// be a tag's name (your own Corp.OnPrem=VirtualNetworkGateway: a route per prefix).
    #[arg(long, value_name = "PREFIX=HOP")]
    pub bgp: Vec<String>,
    /// Application security group members, NAME=IP[,IP…] (repeatable).
    #[arg(long, value_name = "NAME=IP[,IP…]")]
    pub asg: Vec<String>,
    /// An ARM parameters file (as `check --parameters`).
    #[arg(long, value_name = "FILE", value_parser = parameters_file)]
    pub parameters: Option<std::path::PathBuf>,
    /// The resource group's region, for templates' `[resourceGroup().location]`.
    #[arg(long, value_name = "REGION")]
    pub location: Option<String>,
    /// The source NIC's effective routes (`az network nic show-effective-route-table -o json`),
    /// used in place of its subnet's route table: they hold every route Azure applies, BGP
    /// ones included.
    #[arg(long, value_name = "FILE")]
    pub effective_routes: Option<std::path::PathBuf>,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Files or folders: `az … show -o json` output, ARM templates, `terraform show -json`
    /// plans.
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<std::path::PathBuf>,
    /// The ARM parameters file the templates are deployed with (`@FILE` as `az` takes it);
    /// without it, a template's own: the `NAME.parameters*.json` beside it, or its folder's
    /// only parameters file. A parameter the template does not declare is reported, as Azure
    /// refuses the deployment.
    #[arg(long, value_name = "FILE", value_parser = parameters_file)]
    pub parameters: Option<std::path::PathBuf>,
    /// On-premises ranges VNet spaces and AKS ranges must stay clear of, beside the local network gateways' spaces the inputs hold (repeatable): a prefix, or a tag
    /// such as your own `Corp.OnPrem` (--custom FILE or tagnet.toml's [tags]) standing for its
    /// prefixes.
    #[arg(long = "on-prem", value_name = "PREFIX|TAG")]
    pub on_prem: Vec<String>,
    /// The NSG requirement profile for compute subnets (see `nsg require`).
    #[arg(long, default_value = "aml-vnet-2020", value_name = "NAME")]
    pub profile: String,
    /// The route profile for forced tunneling (see `udr`).
    #[arg(long, default_value = "aml-vnet-2020", value_name = "NAME")]
    pub udr_profile: String,
    /// The resource group's region, for templates' `[resourceGroup().location]` (known only
    /// when Azure deploys; without it such a location is reported as unknown).
    #[arg(long, value_name = "REGION")]
    pub location: Option<String>,
    /// Application security group members, NAME=IP[,IP…] (repeatable), beside those the
    /// inputs' NICs name.
    #[arg(long, value_name = "NAME=IP[,IP…]")]
    pub asg: Vec<String>,
    #[command(flatten)]
    pub severity: SeverityArgs,
}

/// Severity per finding code, for every command that reports findings.
#[derive(Debug, Args, Clone, Default)]
pub struct SeverityArgs {
    /// Report these codes or numbers as errors (repeatable).
    #[arg(long, value_name = "CODE")]
    pub deny: Vec<String>,
    /// Report these as warnings (repeatable).
    #[arg(long, value_name = "CODE")]
    pub warn: Vec<String>,
    /// Do not report these (repeatable).
    #[arg(long, value_name = "CODE")]
    pub allow: Vec<String>,
    /// Severity settings: `[severity]` for every command, `[check]`, `[audit]`, `[analyze]`,
    /// `[flows]` for one, each with `deny`, `warn`, `allow` lists; default `./tagnet.toml`
    /// when it exists. The command line's flags apply after the file's.
    #[arg(long, value_name = "FILE")]
    pub config: Option<std::path::PathBuf>,
}

#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// A finding code, e.g. missing-route; without one, every code is listed.
    pub code: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum RoutesCommand {
    /// Check a route table against the routes the required tags need; print a plan. Exit 1
    /// when required addresses do not leave through Internet.
    Audit(AuditArgs),
}

/// Which tags to route: a profile, plus or instead of named tags.
#[derive(Debug, Args)]
pub struct TagChoice {
    /// A documented tag set: aml-vnet-2020 (default: BatchNodeManagement and
    /// AzureMachineLearning), aml-vnet-2023 (AzureMachineLearning), batch-classic
    /// (BatchNodeManagement).
    #[arg(long, ignore_case = true, value_parser = profile_names())]
    pub profile: Option<String>,
    /// Add a tag (its regional variant is routed).
    #[arg(long = "tag", value_name = "TAG")]
    pub tag: Vec<String>,
    /// Route only these tags, replacing the profile's.
    #[arg(long = "only-tag", value_name = "TAG", conflicts_with = "profile")]
    pub only_tag: Vec<String>,
}

#[derive(Debug, Args)]
pub struct UdrArgs {
    /// Regions, comma-separated (e.g. a region and its pair: eastus2,centralus).
    #[arg(long, required = true, value_delimiter = ',')]
    pub region: Vec<String>,
    /// Add each region's pair, from Microsoft's table of region pairs (Azure ML's IP routes
    /// need the paired region too).
    #[arg(long)]
    pub paired: bool,
    #[command(flatten)]
    pub tags: TagChoice,
    /// Include IPv6 prefixes.
    #[arg(long)]
    pub ipv6: bool,
    /// Next hop type: Internet, VirtualAppliance, VirtualNetworkGateway, VnetLocal, None.
    #[arg(long, default_value = "Internet")]
    pub next_hop: String,
    /// The appliance IP, with --next-hop VirtualAppliance.
    #[arg(long, value_name = "IP")]
    pub next_hop_ip: Option<String>,
    /// Route limit of the table (Azure's is 400); checked by the library, as the server's and
    /// Python's.
    #[arg(long, default_value_t = tagnet::routes::DEFAULT_MAX_ROUTES)]
    pub max_routes: usize,
    /// Route slots kept free for the table's own routes (its 0.0.0.0/0 and others), counted
    /// against --max-routes.
    #[arg(long, default_value_t = 1, value_name = "N")]
    pub reserve: usize,
    /// Refuse (exit 1) rather than merge routes that would cover extra addresses.
    #[arg(long)]
    pub exact: bool,
    /// ARM, Bicep and Terraform: write the whole route table (every route inline; deploying it
    /// replaces all routes of the table) instead of adding routes to an existing one. Needs
    /// --default-route.
    #[arg(long, requires = "default_route")]
    pub whole_table: bool,
    /// With --whole-table: the table's 0.0.0.0/0 route: VirtualAppliance:IP,
    /// VirtualNetworkGateway, or none (no default route).
    #[arg(
        long,
        value_name = "VirtualAppliance:IP|VirtualNetworkGateway|none",
        requires = "whole_table"
    )]
    pub default_route: Option<String>,
    /// Route by service-tag name where the tag lists UDR (at most 25 per table).
    #[arg(long)]
    pub use_service_tags: bool,
    /// Space merged routes must never cover (e.g. the VNet): a prefix, or a tag such as your
    /// own `Corp.OnPrem` (--custom); the private ranges never are.
    #[arg(long, value_name = "PREFIX|TAG")]
    pub never_cover: Vec<String>,
    /// Refuse (exit 1) when merged routes would carry more than this many addresses outside
    /// the required tags (IPv4; IPv6 is never merged).
    #[arg(long, value_name = "ADDRESSES")]
    pub max_extra: Option<u128>,
    /// With --ipv6: let the IPv6 routes take slots the IPv4 routes need, merging IPv4 further
    /// (refused without it).
    #[arg(long, requires = "ipv6")]
    pub ipv6_shares_budget: bool,
}

#[derive(Debug, Args)]
pub struct AuditArgs {
    /// `az network route-table show` output, `az network nic show-effective-route-table`
    /// output (what the NIC really uses, BGP routes included), an ARM template, or
    /// `tagnet udr --format json` (`-` for standard input).
    #[arg(long, value_name = "FILE[#NAME]|-")]
    pub route_table: PathBuf,
    /// A 0.0.0.0/0 advertised by BGP, which a route table does not show:
    /// VirtualNetworkGateway, VirtualAppliance:IP, or none.
    #[arg(long, value_name = "VirtualNetworkGateway|VirtualAppliance:IP|none")]
    pub default_route: Option<String>,
    /// An earlier snapshot (a file, `latest`, `cnNNN` or `builtin`): routes to Internet for
    /// prefixes the required tags held then are tagnet's, and stale when they hold no
    /// required address now; a region it has and the audited snapshot retired stays a region.
    #[arg(long, value_name = "SNAPSHOT")]
    pub previous: Option<PathBuf>,
    /// Delete stale routes in the plan (without it they are listed for review only).
    #[arg(long)]
    pub prune: bool,
    /// Route limit of the table; the plan never goes over it.
    #[arg(long, default_value_t = tagnet::routes::DEFAULT_MAX_ROUTES)]
    pub max_routes: usize,
    /// Add each region's pair (Azure ML's IP routes need the paired region too).
    #[arg(long)]
    pub paired: bool,
    /// Regions, comma-separated.
    #[arg(long, required = true, value_delimiter = ',')]
    pub region: Vec<String>,
    /// The VNet's address space (its system route is VnetLocal); repeat for several.
    #[arg(long, value_name = "PREFIX")]
    pub vnet: Vec<String>,
    #[command(flatten)]
    pub tags: TagChoice,
    /// Audit IPv6 too.
    #[arg(long)]
    pub ipv6: bool,
    #[command(flatten)]
    pub severity: SeverityArgs,
}

#[derive(Debug, Args)]
pub struct AggregateArgs {
    /// Input file, one `PREFIX` or `LABEL PREFIX` per line (`-` or absent: standard input).
    #[arg(value_name = "FILE|-", default_value = "-")]
    pub input: PathBuf,
    /// At most N prefixes: merge further, covering the fewest extra addresses.
    #[arg(long, value_name = "N", value_parser = positive)]
    pub max: Option<usize>,
    /// Space the merged prefixes must never cover: a prefix, or a tag such as your own
    /// `Corp.OnPrem` (--custom) standing for its prefixes.
    #[arg(long, value_name = "PREFIX|TAG")]
    pub never_cover: Vec<String>,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// Tags to export (their union): `Storage.WestEurope`, `AWS.S3`, `Corp.OnPrem` …
    #[arg(value_name = "TAG", required = true)]
    pub selection: Vec<String>,
    /// What to write: plain, paloalto (an external dynamic list), fortigate, nftables, ipset,
    /// arm, bicep, terraform (Azure Firewall IP Groups).
    #[arg(long = "as", value_name = "TARGET", default_value = "plain")]
    pub target: String,
    /// An Azure region: each cloud-wide Azure tag means its variant there.
    #[arg(long)]
    pub region: Option<String>,
    /// At most N prefixes: merge further, covering the fewest extra addresses.
    #[arg(long, value_name = "N", value_parser = positive)]
    pub max: Option<usize>,
    /// The object's name (default: the tags' names).
    #[arg(long)]
    pub name: Option<String>,
    /// The change since an older version (repeatable, one a source): Microsoft's snapshot (a
    /// file, `cnNNN` from the cache) and/or another provider's file (`aws=FILE`, or a cached
    /// version as `snapshots` lists it, `AWS_20261130_0000`); a source not named is taken as
    /// it is now. Writes nftables `add`/`delete element`, ipset `add`/`del`, plain `+`/`-`.
    #[arg(long, value_name = "SNAPSHOT")]
    pub since: Vec<PathBuf>,
}

#[derive(Debug, Args)]
pub struct HistoryArgs {
    /// An address, a prefix or a tag name.
    #[arg(value_name = "IP|PREFIX|TAG")]
    pub subject: String,
    /// The weeks to read, oldest or newest in any order (a file or `cnNNN` from the cache;
    /// repeatable). Default: every cached snapshot of --cloud, and the built-in one.
    #[arg(long = "snapshot", value_name = "SNAPSHOT")]
    pub snapshots: Vec<PathBuf>,
    /// The cloud whose cached weeks are read.
    #[arg(long, default_value = "Public")]
    pub cloud: String,
    /// Another provider's cached files instead (`tagnet fetch --provider`), each a week:
    /// aws, google, oracle, github, cloudflare.
    #[arg(long, value_name = "PROVIDER", conflicts_with = "snapshots")]
    pub provider: Option<String>,
}

#[derive(Debug, Args)]
pub struct OverlapsArgs {
    /// Input file, one `PREFIX` or `LABEL PREFIX` per line (`-` or absent: standard input).
    #[arg(value_name = "FILE|-", default_value = "-")]
    pub input: PathBuf,
}

#[derive(Debug, Args)]
pub struct TagsArgs {
    /// Only tags of this region (`eastus2`, `East US 2`, `east-us-2` all work).
    #[arg(long)]
    pub region: Option<String>,
    /// Only tags whose systemService is this (case-insensitive), e.g. AzureStorage.
    #[arg(long)]
    pub service: Option<String>,
    /// Only tags whose networkFeatures include this: API, NSG, UDR, FW, VSE.
    #[arg(long)]
    pub feature: Option<String>,
    /// Only tags whose name matches this glob (`*`, `?`; case-insensitive), e.g. 'Storage.*'.
    #[arg(long, value_name = "GLOB")]
    pub name: Option<String>,
}

#[derive(Debug, Args)]
pub struct PrefixesArgs {
    /// Tag names (case-insensitive). With --region, a cloud-wide tag means its variant(s) in
    /// that region, chosen by properties.region and systemService.
    #[arg(id = "TAG", required = true, value_name = "TAG")]
    pub tag_names: Vec<String>,
    /// Region whose variants of the tags to use.
    #[arg(long)]
    pub region: Option<String>,
    /// IPv4 prefixes only.
    #[arg(short = '4', long = "ipv4", conflicts_with = "ipv6")]
    pub ipv4: bool,
    /// IPv6 prefixes only.
    #[arg(short = '6', long = "ipv6")]
    pub ipv6: bool,
    /// Merge exactly: the same addresses in the fewest prefixes.
    #[arg(long)]
    pub aggregate: bool,
    /// Remove these addresses (a tag, with --region applied, or a prefix); repeatable.
    #[arg(long, value_name = "TAG|PREFIX")]
    pub minus: Vec<String>,
    /// Keep only these addresses (a tag or a prefix); repeatable, each narrows further.
    #[arg(long, value_name = "TAG|PREFIX")]
    pub intersect: Vec<String>,
}

#[derive(Debug, Clone, Args)]
pub struct LookupArgs {
    /// IPv4 or IPv6 addresses, or prefixes (`20.42.0.0/16`: the tags whose prefixes contain
    /// it, lie inside it, or overlap it). Without any, standard input is read when it is not a
    /// terminal.
    #[arg(value_name = "ADDRESS", conflicts_with = "input")]
    pub addresses: Vec<String>,
    /// Read addresses from a file, one per line (`-` for standard input). Blank lines and
    /// `#` comments are skipped; a bad line is reported with its number and the run goes on.
    #[arg(long, short, value_name = "FILE|-")]
    pub input: Option<PathBuf>,
    /// Only tags of this region, answered from the region's prefix tries.
    #[arg(long)]
    pub region: Option<String>,
}

/// A count of at least 1.
/// Seconds: 1 to 86,400 (a day).
fn seconds(text: &str) -> Result<usize, String> {
    match positive(text)? {
        n if n > 86_400 => Err("at most 86400 (a day)".into()),
        n => Ok(n),
    }
}

/// MiB: 1 to 1,048,576 (a TiB).
fn mib(text: &str) -> Result<usize, String> {
    match positive(text)? {
        n if n > 1 << 20 => Err("at most 1048576 (a TiB)".into()),
        n => Ok(n),
    }
}

fn positive(text: &str) -> Result<usize, String> {
    match text.trim().parse::<usize>() {
        Ok(0) => Err("must be at least 1".into()),
        Ok(n) => Ok(n),
        Err(_) => Err(format!("`{text}` is not a whole number")),
    }
}

/// The profile names of `data/udr-profiles.json`, for validation and shell completion.
fn profile_names() -> clap::builder::PossibleValuesParser {
    let names: Vec<clap::builder::PossibleValue> = tagnet::routes::profiles()
        .into_iter()
        .map(|p| {
            let name: &'static str = Box::leak(p.name.into_boxed_str());
            let help: &'static str = Box::leak(p.description.into_boxed_str());
            clap::builder::PossibleValue::new(name).help(help)
        })
        .collect();
    clap::builder::PossibleValuesParser::new(names)
}
