//! The reports of the use cases ([`tagnet::ops`]): each method takes the command's options as
//! keyword arguments, calls the one use-case function and returns its report as the JSON text
//! the command writes with `--format json` (the Python side `json.loads` it).

use crate::*;

#[pymethods]
impl Index {
    /// `nsg reach --format json`, as JSON text: the scope as JSON texts of the NSGs, prefixes
    /// of `VirtualNetwork` and ASG members.
    #[allow(clippy::too_many_arguments)]
    #[pyo3(signature = (nsg_json, nic_nsg_json, vnet, asgs, direction, protocol, port, local=None, route_table_json=None, parameters_json=None))]
    fn reach_json(
        &self,
        py: Python<'_>,
        nsg_json: Option<&[u8]>,
        nic_nsg_json: Option<&[u8]>,
        vnet: Vec<String>,
        asgs: std::collections::BTreeMap<String, Vec<String>>,
        direction: String,
        protocol: String,
        port: Option<u16>,
        local: Option<String>,
        route_table_json: Option<&[u8]>,
        parameters_json: Option<&[u8]>,
    ) -> PyResult<String> {
        let mut scope = nsg_scope((nsg_json, nic_nsg_json, parameters_json), &vnet, &asgs)?;
        scope.route_table = crate::route_table(route_table_json)?;
        let params = tagnet::ops::nsg::ReachParams {
            direction,
            protocol,
            port,
            local,
        };
        let report = py
            .detach(|| tagnet::ops::nsg::reach(&self.snap, &self.info, &scope, &params))
            .map_err(tagnet_err)?;
        json_text(&report)
    }

    /// `nsg analyze --format json`, as JSON text: `{"snapshot", "records"}`.
    #[allow(clippy::too_many_arguments)]
    #[pyo3(signature = (nsg_json, nic_nsg_json, vnet, asgs, deny=Vec::new(), warn=Vec::new(), allow=Vec::new(), parameters_json=None))]
    fn analyze_json(
        &self,
        py: Python<'_>,
        nsg_json: Option<&[u8]>,
        nic_nsg_json: Option<&[u8]>,
        vnet: Vec<String>,
        asgs: std::collections::BTreeMap<String, Vec<String>>,
        deny: Vec<String>,
        warn: Vec<String>,
        allow: Vec<String>,
        parameters_json: Option<&[u8]>,
    ) -> PyResult<String> {
        // Every NSG of the document, as the command analyses every NSG of its file.
        let scope = nsg_scope((None, None, None), &vnet, &asgs)?;
        let levels = levels(deny, warn, allow)?;
        let mut nsgs: Vec<tagnet::nsg::model::Nsg> = Vec::new();
        for (json, what) in [(nsg_json, "nsg"), (nic_nsg_json, "nic_nsg")] {
            if let Some(json) = json {
                nsgs.extend(read_nsgs(json, what, parameters_json)?);
            }
        }
        if nsgs.is_empty() {
            return Err(err("give `nsg=`: the NSG to analyse"));
        }
        let findings = py.detach(|| tagnet::ops::nsg::analyze(&self.snap, &scope, &nsgs, &levels));
        json_text(&tagnet::ops::Records {
            snapshot: &self.info,
            records: &findings,
            warnings: &tagnet::ops::nsg::nsg_warnings(&nsgs),
        })
    }

    /// `nsg require --format json`, as JSON text.
    #[allow(clippy::too_many_arguments)]
    #[pyo3(signature = (nsg_json, nic_nsg_json, vnet, asgs, region, profile=None, local=None, route_table_json=None, parameters_json=None))]
    fn require_json(
        &self,
        py: Python<'_>,
        nsg_json: Option<&[u8]>,
        nic_nsg_json: Option<&[u8]>,
        vnet: Vec<String>,
        asgs: std::collections::BTreeMap<String, Vec<String>>,
        region: String,
        profile: Option<String>,
        local: Option<String>,
        route_table_json: Option<&[u8]>,
        parameters_json: Option<&[u8]>,
    ) -> PyResult<String> {
        let mut scope = nsg_scope((nsg_json, nic_nsg_json, parameters_json), &vnet, &asgs)?;
        scope.route_table = crate::route_table(route_table_json)?;
        let params = tagnet::ops::nsg::RequireParams {
            region,
            profile,
            local,
        };
        let report = py
            .detach(|| tagnet::ops::nsg::require(&self.snap, &self.info, &scope, &params))
            .map_err(tagnet_err)?;
        json_text(&report)
    }

    /// `routes audit --format json`, as JSON text: the table as its JSON text.
    #[allow(clippy::too_many_arguments)]
    #[pyo3(signature = (table_json, regions, paired=false, profile=None, tags=Vec::new(), only_tags=Vec::new(), vnet=Vec::new(), ipv6=false, default_route=None, prune=false, max_routes=None, deny=Vec::new(), warn=Vec::new(), allow=Vec::new()))]
    fn audit_json(
        &self,
        py: Python<'_>,
        table_json: &[u8],
        regions: Vec<String>,
        paired: bool,
        profile: Option<String>,
        tags: Vec<String>,
        only_tags: Vec<String>,
        vnet: Vec<String>,
        ipv6: bool,
        default_route: Option<String>,
        prune: bool,
        max_routes: Option<usize>,
        deny: Vec<String>,
        warn: Vec<String>,
        allow: Vec<String>,
    ) -> PyResult<String> {
        let table = tagnet::routes::audit::parse_route_table(table_json, "route_table")
            .map_err(tagnet_err)?;
        let default_route = default_route
            .as_deref()
            .map(tagnet::ops::audit::default_route)
            .transpose()
            .map_err(tagnet_err)?
            .map(|(hop, _)| hop);
        let params = tagnet::ops::audit::AuditParams {
            tags: tagnet::ops::udr::UdrParams {
                regions,
                paired,
                profile,
                tags,
                only_tags,
                ..Default::default()
            },
            vnet,
            ipv6,
            default_route,
            prune,
            max_routes: max_routes.unwrap_or(tagnet::routes::DEFAULT_MAX_ROUTES),
        };
        let levels = levels(deny, warn, allow)?;
        let report = py
            .detach(|| {
                tagnet::ops::audit::audit(&self.snap, &self.info, &table, &params, None, &levels)
            })
            .map_err(tagnet_err)?;
        json_text(&report)
    }

    /// `check --format json`, as JSON text: documents as JSON text (one, a list, or
    /// `{"file name": document}`) or as paths of files and folders, read as the CLI reads them.
    #[allow(clippy::too_many_arguments)]
    #[pyo3(signature = (documents_json=None, paths=Vec::new(), parameters_json=None, on_prem=Vec::new(), profile=None, udr_profile=None, deny=Vec::new(), warn=Vec::new(), allow=Vec::new(), location=None, asgs=std::collections::BTreeMap::new()))]
    fn check_json(
        &self,
        py: Python<'_>,
        documents_json: Option<&[u8]>,
        paths: Vec<std::path::PathBuf>,
        parameters_json: Option<&[u8]>,
        on_prem: Vec<String>,
        profile: Option<String>,
        udr_profile: Option<String>,
        deny: Vec<String>,
        warn: Vec<String>,
        allow: Vec<String>,
        location: Option<String>,
        asgs: std::collections::BTreeMap<String, Vec<String>>,
    ) -> PyResult<String> {
        let defaults = tagnet::ops::check::CheckParams::default();
        let params = tagnet::ops::check::CheckParams {
            on_prem,
            profile: profile.unwrap_or(defaults.profile),
            udr_profile: udr_profile.unwrap_or(defaults.udr_profile),
            location,
            asgs: crate::asg_members(&asgs)?,
        };
        let levels = levels(deny, warn, allow)?;
        let report = py
            .detach(|| {
                let (documents, parameters) =
                    documents_and_parameters(documents_json, &paths, parameters_json)?;
                tagnet::ops::check::check(
                    &self.snap,
                    &self.info,
                    &documents,
                    &parameters,
                    &params,
                    &levels,
                )
            })
            .map_err(tagnet_err)?;
        json_text(&report)
    }

    /// `path --format json`, as JSON text: documents as `check_json` takes them.
    #[allow(clippy::too_many_arguments)]
    #[pyo3(signature = (documents_json, paths, parameters_json, from_, to, protocol, port, bgp, asgs, profile=None, region=None, location=None, effective_routes_json=None))]
    fn path_json(
        &self,
        py: Python<'_>,
        documents_json: Option<&[u8]>,
        paths: Vec<std::path::PathBuf>,
        parameters_json: Option<&[u8]>,
        from_: String,
        to: String,
        protocol: String,
        port: Option<u16>,
        bgp: Vec<String>,
        asgs: std::collections::BTreeMap<String, Vec<String>>,
        profile: Option<String>,
        region: Option<String>,
        location: Option<String>,
        effective_routes_json: Option<&[u8]>,
    ) -> PyResult<String> {
        let effective_routes = effective_routes_json
            .map(|b| tagnet::routes::audit::parse_route_table(b, "effective_routes"))
            .transpose()
            .map_err(tagnet_err)?;
        let params = tagnet::ops::path::PathParams {
            from: from_,
            to,
            protocol,
            port,
            bgp,
            asgs: crate::asg_members(&asgs)?,
            profile,
            region,
            location,
            effective_routes,
        };
        let report = py
            .detach(|| {
                let (documents, parameters) =
                    documents_and_parameters(documents_json, &paths, parameters_json)?;
                tagnet::ops::path::path(&self.snap, &self.info, &documents, &parameters, &params)
            })
            .map_err(tagnet_err)?;
        json_text(&report)
    }

    /// `flows verify --format json`, as JSON text: blobs as JSON text (one, a list, or
    /// `{"name": blob}`) or as paths of files and folders, read as the CLI reads them.
    #[allow(clippy::too_many_arguments)]
    #[pyo3(signature = (blobs_json, paths, nsg_json, nic_nsg_json, vnet, asgs, profile=None, region=None, all=false, deny=Vec::new(), warn=Vec::new(), allow=Vec::new(), skip_bad=false, parameters_json=None))]
    fn flows_verify_json(
        &self,
        py: Python<'_>,
        blobs_json: Option<&[u8]>,
        paths: Vec<std::path::PathBuf>,
        nsg_json: Option<&[u8]>,
        nic_nsg_json: Option<&[u8]>,
        vnet: Vec<String>,
        asgs: std::collections::BTreeMap<String, Vec<String>>,
        profile: Option<String>,
        region: Option<String>,
        all: bool,
        deny: Vec<String>,
        warn: Vec<String>,
        allow: Vec<String>,
        skip_bad: bool,
        parameters_json: Option<&[u8]>,
    ) -> PyResult<String> {
        let scope = nsg_scope((nsg_json, nic_nsg_json, parameters_json), &vnet, &asgs)?;
        let levels = levels(deny, warn, allow)?;
        let params = tagnet::ops::flows::VerifyParams {
            profile,
            region,
            all,
            skip_bad,
        };
        let report = py
            .detach(|| {
                let verifier =
                    tagnet::ops::flows::Verifier::new(&self.snap, &scope, &params, levels)?;
                match blobs_json {
                    Some(b) => {
                        let v = serde_json::from_slice(b)
                            .map_err(|e| tagnet::Error::json("flow_logs", &e, "flow-log blobs"))?;
                        let blobs = tagnet::ops::flows::blobs_of(&v)?;
                        let sources = tagnet::ops::flows::sources_of_blobs(&blobs);
                        tagnet::ops::flows::verify(&self.info, &verifier, sources)
                    }
                    None => {
                        let sources = tagnet::ops::flows::sources_of_paths(&paths)?;
                        tagnet::ops::flows::verify(&self.info, &verifier, sources)
                    }
                }
            })
            .map_err(tagnet_err)?;
        json_text(&report)
    }

    /// `diff --format json` from `previous` to this snapshot, as JSON text; with a route table
    /// (its JSON text), what the change means for it.
    #[allow(clippy::too_many_arguments)]
    #[pyo3(signature = (previous, tags=Vec::new(), regions=Vec::new(), services=Vec::new(), table_json=None, vnet=Vec::new(), profile=None, default_route=None, prune=false, deny=Vec::new(), warn=Vec::new(), allow=Vec::new(), ipv6=false, max_routes=None))]
    fn diff_json(
        &self,
        py: Python<'_>,
        previous: &Index,
        tags: Vec<String>,
        regions: Vec<String>,
        services: Vec<String>,
        table_json: Option<&[u8]>,
        vnet: Vec<String>,
        profile: Option<String>,
        default_route: Option<String>,
        prune: bool,
        deny: Vec<String>,
        warn: Vec<String>,
        allow: Vec<String>,
        ipv6: bool,
        max_routes: Option<usize>,
    ) -> PyResult<String> {
        let params = tagnet::ops::diff::DiffParams {
            tags,
            regions,
            services,
        };
        let table = table_json
            .map(|b| tagnet::routes::audit::parse_route_table(b, "route_table"))
            .transpose()
            .map_err(tagnet_err)?;
        let impact = tagnet::ops::diff::ImpactParams {
            regions: Vec::new(),
            profile,
            vnet,
            default_route: default_route
                .as_deref()
                .map(tagnet::ops::audit::default_route)
                .transpose()
                .map_err(tagnet_err)?
                .map(|(hop, _)| hop),
            prune,
            ipv6,
            max_routes,
        };
        let levels = levels(deny, warn, allow)?;
        let report = py
            .detach(|| {
                tagnet::ops::diff::changes(
                    (&previous.snap, &previous.info),
                    (&self.snap, &self.info),
                    &params,
                    table.as_ref().map(|t| (t, &impact, &levels)),
                )
            })
            .map_err(tagnet_err)?;
        json_text(&report)
    }

    /// `info --format json`, as JSON text.
    fn info_json(&self) -> PyResult<String> {
        json_text(&tagnet::ops::catalog::info(
            &self.snap,
            &self.index,
            &self.info,
        ))
    }

    /// `regions --format json`, as JSON text.
    fn regions_json(&self) -> PyResult<String> {
        json_text(&tagnet::ops::Records {
            snapshot: &self.info,
            records: &tagnet::ops::catalog::regions(&self.snap),
            warnings: &[],
        })
    }

    /// `flows attribute --summary --format json`, as JSON text: blobs as JSON text or paths.
    #[allow(clippy::too_many_arguments)]
    #[pyo3(signature = (blobs_json, paths, region=None, profile=None, top=10, skip_bad=false))]
    fn flows_summary_json(
        &self,
        py: Python<'_>,
        blobs_json: Option<&[u8]>,
        paths: Vec<std::path::PathBuf>,
        region: Option<String>,
        profile: Option<String>,
        top: usize,
        skip_bad: bool,
    ) -> PyResult<String> {
        let params = tagnet::ops::flows::SummaryParams {
            region,
            profile,
            top,
            skip_bad,
        };
        let report = py
            .detach(|| {
                let run = |sources| {
                    tagnet::ops::flows::summarize(
                        &self.snap,
                        &self.index,
                        &self.info,
                        sources,
                        &params,
                    )
                };
                match blobs_json {
                    Some(b) => {
                        let v = serde_json::from_slice(b)
                            .map_err(|e| tagnet::Error::json("flow_logs", &e, "flow-log blobs"))?;
                        let blobs = tagnet::ops::flows::blobs_of(&v)?;
                        run(tagnet::ops::flows::sources_of_blobs(&blobs))
                    }
                    None => run(tagnet::ops::flows::sources_of_paths(&paths)?),
                }
            })
            .map_err(tagnet_err)?;
        json_text(&report)
    }

    /// `udr --format json`: the report of `tagnet::ops::udr`, as JSON text.
    #[allow(clippy::too_many_arguments)]
    #[pyo3(signature = (regions, paired=false, profile=None, tags=Vec::new(), only_tags=Vec::new(), ipv6=false, next_hop=None, next_hop_ip=None, max_routes=None, reserve=None, exact=false, use_service_tags=false, never_cover=Vec::new(), max_extra=None, ipv6_shares_budget=false))]
    fn udr_json(
        &self,
        py: Python<'_>,
        regions: Vec<String>,
        paired: bool,
        profile: Option<String>,
        tags: Vec<String>,
        only_tags: Vec<String>,
        ipv6: bool,
        next_hop: Option<String>,
        next_hop_ip: Option<String>,
        max_routes: Option<usize>,
        reserve: Option<usize>,
        exact: bool,
        use_service_tags: bool,
        never_cover: Vec<String>,
        max_extra: Option<u128>,
        ipv6_shares_budget: bool,
    ) -> PyResult<String> {
        let params = tagnet::ops::udr::UdrParams {
            regions,
            paired,
            profile,
            tags,
            only_tags,
            ipv6,
            next_hop,
            next_hop_ip,
            max_routes,
            reserve,
            exact,
            use_service_tags,
            never_cover,
            max_extra,
            ipv6_shares_budget,
            owns_default_route: false,
        };
        let report = py
            .detach(|| tagnet::ops::udr::udr(&self.snap, &self.info, &params))
            .map_err(tagnet_err)?
            .map_err(|over| err(over.spelled(&py_name)))?;
        json_text(&report)
    }

    /// `tags --format json`: `{"snapshot", "records"}`, as JSON text.
    #[pyo3(signature = (region=None, service=None, feature=None, name=None))]
    fn tags_json(
        &self,
        region: Option<String>,
        service: Option<String>,
        feature: Option<String>,
        name: Option<String>,
    ) -> PyResult<String> {
        let params = tagnet::ops::catalog::TagsParams {
            region,
            service,
            feature,
            name,
        };
        let recs = tagnet::ops::catalog::tags(&self.snap, &params).map_err(tagnet_err)?;
        json_text(&tagnet::ops::Records {
            snapshot: &self.info,
            records: &recs,
            warnings: &[],
        })
    }

    /// `prefixes --format json`, as JSON text.
    #[pyo3(signature = (tags, region=None, family="any", aggregate=false, minus=Vec::new(), intersect=Vec::new()))]
    fn prefixes_json(
        &self,
        tags: Vec<String>,
        region: Option<String>,
        family: &str,
        aggregate: bool,
        minus: Vec<String>,
        intersect: Vec<String>,
    ) -> PyResult<String> {
        let params = tagnet::ops::catalog::PrefixesParams {
            tags,
            region,
            family: tagnet::ops::catalog::Family::parse(family, "family").map_err(tagnet_err)?,
            aggregate,
            minus,
            intersect,
        };
        let report =
            tagnet::ops::catalog::prefixes(&self.snap, &self.info, &params).map_err(tagnet_err)?;
        json_text(&report)
    }

    /// `lookup ADDRESS|PREFIX… --format json`: `{"snapshot", "records"}`, as JSON text.
    #[pyo3(signature = (queries, region=None))]
    fn lookup_json(&self, queries: Vec<String>, region: Option<String>) -> PyResult<String> {
        use tagnet::ops::lookup;
        let code = lookup::region_code(&self.snap, region.as_deref()).map_err(tagnet_err)?;
        let mut answers = Vec::with_capacity(queries.len());
        for (i, q) in queries.iter().enumerate() {
            let parsed = lookup::parse_query(q).map_err(|reason| {
                err(lookup::query_error(
                    q,
                    &reason,
                    Some(&format!("queries[{i}]")),
                ))
            })?;
            answers.push(lookup::answer(&self.snap, &self.index, parsed, code));
        }
        json_text(&tagnet::ops::Records {
            snapshot: &self.info,
            records: &answers,
            warnings: &[],
        })
    }
}

/// The severity settings of a report, as the command's `--deny`, `--warn`, `--allow`.
fn levels(
    deny: Vec<String>,
    warn: Vec<String>,
    allow: Vec<String>,
) -> PyResult<tagnet::findings::severity::Resolved> {
    tagnet::findings::severity::Levels { deny, warn, allow }
        .resolve(&tagnet::findings::registry())
        .map_err(|e| err(format!("`deny=`/`warn=`/`allow=`: {e}")))
}

/// Documents as JSON text (one, a list, or `{"file name": document}`) or as paths read as the
/// CLI reads them, and an ARM parameters file's values, for `check_json` and `path_json`.
type Documents = (
    Vec<(String, Vec<u8>)>,
    serde_json::Map<String, serde_json::Value>,
);

fn documents_and_parameters(
    documents_json: Option<&[u8]>,
    paths: &[std::path::PathBuf],
    parameters_json: Option<&[u8]>,
) -> tagnet::Result<Documents> {
    let documents = match documents_json {
        Some(b) => tagnet::ops::check::documents_of(
            &serde_json::from_slice(b)
                .map_err(|e| tagnet::Error::json("documents", &e, "JSON documents"))?,
        )?,
        None => tagnet::check::read::documents(paths)?,
    };
    let parameters = match parameters_json {
        Some(b) => tagnet::check::read::parameters(b, "parameters")?,
        None => Default::default(),
    };
    Ok((documents, parameters))
}
