//! Raw command-line flags (clap). Validation into library calls happens in the commands.

use super::render::Format;
use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

const EXIT_CODES: &str = "\
Exit status:
  0  success (for lookup: at least one address matched; for tags: at least one tag listed)
  1  negative result (nothing matched)
  2  error (bad input, unreadable file, unknown tag or region)";

/// Azure service-tag and IP-range analysis: which tags hold an address, which prefixes a
/// region's tags have, offline, on Microsoft's weekly service-tag file.
#[derive(Debug, Parser)]
#[command(name = "tagnet", version, after_help = EXIT_CODES)]
pub struct Cli {
    /// Service-tag file: the weekly ServiceTags_<Cloud>_<date>.json download or the output of
    /// `az network list-service-tags`; `-` reads standard input.
    #[arg(long, global = true, env = "TAGNET_TAGS", value_name = "PATH|-")]
    pub tags: Option<PathBuf>,

    /// Output format.
    #[arg(long, global = true, value_enum, default_value_t = Format::Table)]
    pub format: Format,

    /// Do not print load warnings (host bits set, repeated prefixes) on standard error.
    #[arg(long, short, global = true)]
    pub quiet: bool,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Cloud, change number, and tag, region and prefix counts per family.
    Info,
    /// List tags with region, service, IPv4/IPv6 prefix counts and networkFeatures, by name.
    Tags(TagsArgs),
    /// The union of the tags' prefixes, sorted (IPv4 first, by address then length).
    Prefixes(PrefixesArgs),
    /// Every tag holding each address, with the matching prefix; output keeps input order.
    Lookup(LookupArgs),
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
}

#[derive(Debug, Args)]
pub struct LookupArgs {
    /// IPv4 or IPv6 addresses.
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
