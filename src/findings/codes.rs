//! The one table of finding codes: every code tagnet reports — `check`'s (`TN0xx`), `routes
//! audit`'s (`TN1xx`), `nsg analyze`'s (`TN2xx`) and `flows verify`'s (`TN3xx`) — with the
//! documentation `tagnet explain` prints. A finding is made from a [`Code`], so a code missing
//! from the table does not compile. The checks themselves live with their commands (one file
//! per rule of `check` in `check/rules/`).

// The table's texts name placeholders such as `Storage.<region>` in plain words.
#![allow(rustdoc::invalid_html_tags)]

use super::{Rule, Severity};

macro_rules! codes {
    ($(
        $variant:ident = $id:literal, $code:literal, $sev:ident, $source:literal,
        summary: $sum:literal,
        why: $why:literal,
        example: $ex:literal,
        fix: $fix:literal,
        reference: $r:literal;
    )*) => {
        /// Every finding code, by number.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum Code {
            $(
                #[doc = concat!("`", $id, "` `", $code, "` (", stringify!($sev), ", ", $source, "): ", $sum,
                                "\n\n**Why.** ", $why, "\n\n**Example.** ", $ex, "\n\n**Fix.** ", $fix)]
                $variant,
            )*
        }

        impl Code {
            /// Every code, sorted by number.
            pub const ALL: &'static [Code] = &[$(Code::$variant),*];

            /// The code's documentation.
            pub const fn rule(self) -> &'static Rule {
                match self {
                    $(
                        Code::$variant => &Rule {
                            code: $code,
                            id: $id,
                            severity: Severity::$sev,
                            source: $source,
                            summary: $sum,
                            why: $why,
                            example: $ex,
                            fix: $fix,
                            reference: $r,
                        },
                    )*
                }
            }
        }
    };
}

codes! {
    SubnetTooSmall = "TN001", "subnet-too-small", Error, "check",
        summary: "A subnet has fewer free addresses than the computes and node pools placed in it need.",
        why: "Azure keeps 5 addresses of every subnet. An Azure ML cluster and a Batch pool need one address per node at their maximum; AKS with Azure CNI reserves (nodes + 1) × (maxPods + 1) addresses up front (with a pod subnet, nodes + 1 in the node subnet and nodes × maxPods in the pod subnet), kubenet and CNI Overlay one per node plus one for upgrades. When they run out, scaling stops (AKS: `InsufficientSubnetSize`, `SubnetIsFull`) and an ML cluster hangs below its node count.",
        example: "a /27 (27 usable) for an AKS Azure CNI pool of 3 nodes with maxPods 30: (3 + 1) × 31 = 124 needed, so the subnet must be a /25 or larger",
        fix: "Give the subnet a shorter prefix (the finding names the largest that fits), or lower the node count or maxPods.",
        reference: "https://learn.microsoft.com/azure/aks/configure-azure-cni#plan-ip-addressing-for-your-cluster; https://learn.microsoft.com/azure/virtual-network/virtual-networks-faq (5 reserved addresses)";
    SubnetOutsideVnet = "TN002", "subnet-outside-vnet", Error, "check",
        summary: "A subnet's prefix is not inside its virtual network's address space.",
        why: "Azure refuses a subnet whose range is not within one of the VNet's address prefixes (NetcfgInvalidSubnet); the deployment fails.",
        example: "VNet 10.0.0.0/16 with subnet 10.1.0.0/24",
        fix: "Move the subnet inside the address space, or add a prefix that holds it to the VNet's addressSpace.",
        reference: "https://learn.microsoft.com/azure/virtual-network/virtual-network-manage-subnet";
    SubnetOverlap = "TN003", "subnet-overlap", Error, "check",
        summary: "Two subnets of one virtual network share addresses.",
        why: "Subnet ranges in a VNet cannot overlap; Azure refuses the second subnet (NetcfgSubnetRangesOverlap).",
        example: "subnets 10.0.0.0/24 and 10.0.0.128/25 in one VNet",
        fix: "Give one of them a range that no other subnet of the VNet uses.",
        reference: "https://learn.microsoft.com/azure/virtual-network/virtual-networks-faq";
    VnetPeeringOverlap = "TN004", "vnet-peering-overlap", Error, "check",
        summary: "A virtual network's address space overlaps the space of a network it is peered with.",
        why: "Peered VNets cannot have overlapping address spaces; the peering is refused or, after a space is added, traffic to the shared range stays local.",
        example: "vnet-ml 10.0.0.0/16 peered with vnet-hub 10.0.0.0/22",
        fix: "Renumber one of the networks so their spaces are disjoint.",
        reference: "https://learn.microsoft.com/azure/virtual-network/virtual-network-manage-peering#requirements-and-constraints";
    VnetReservedRange = "TN005", "vnet-reserved-range", Error, "check",
        summary: "A virtual network's address space includes a range Azure does not allow.",
        why: "A VNet cannot use 224.0.0.0/4 (multicast), 255.255.255.255/32 (broadcast), 127.0.0.0/8 (loopback), 169.254.0.0/16 (link-local) or 168.63.129.16/32 (Azure's internal DNS and health probes).",
        example: "address space 169.254.0.0/16",
        fix: "Use private ranges (RFC 1918: 10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16) that stay clear of these.",
        reference: "https://learn.microsoft.com/azure/virtual-network/virtual-networks-faq#what-address-ranges-can-i-use-in-my-vnets";
    VnetOnPremOverlap = "TN006", "vnet-onprem-overlap", Error, "check",
        summary: "A virtual network's address space overlaps an on-premises range: a local network gateway's address space, or a range given with --on-prem.",
        why: "Azure routes a VNet's own space locally before any gateway route, so on-premises addresses inside it are unreachable from the VNet; Azure also refuses a site-to-site connection whose local network gateway's space overlaps the VNet's. The on-premises and Azure ranges must be disjoint.",
        example: "vnet-ml 10.10.0.0/16 with local network gateway lng-corp 10.10.128.0/17",
        fix: "Renumber the VNet (or the on-premises range) so that the two are disjoint, then update the local network gateway's address space.",
        reference: "https://learn.microsoft.com/azure/vpn-gateway/vpn-gateway-about-vpn-gateway-settings#lng; https://learn.microsoft.com/azure/virtual-network/virtual-networks-faq#what-address-ranges-can-i-use-in-my-vnets";
    AksServiceCidrOverlap = "TN010", "aks-service-cidr-overlap", Error, "check",
        summary: "An AKS cluster's service CIDR overlaps its VNet, a subnet, a peered network or an on-premises range.",
        why: "Kubernetes services get addresses from the service CIDR; where it overlaps a real network, traffic to those addresses stays inside the cluster. AKS refuses an overlap with the cluster VNet's subnets (`ServiceCidrOverlapExistingSubnetsCidr`), and the docs require the range to be clear of peered VNets and on-premises networks too.",
        example: "the default service CIDR 10.0.0.0/16 in a VNet 10.0.0.0/16",
        fix: "Pick a service CIDR used nowhere in the VNet, its peerings or on premises (e.g. 10.240.0.0/16 when that is free), with the DNS service IP at its .10.",
        reference: "https://learn.microsoft.com/azure/aks/configure-azure-cni#deployment-parameters; https://learn.microsoft.com/troubleshoot/azure/azure-kubernetes/create-upgrade-delete/error-code-servicecidroverlapexistingsubnetscidr";
    AksDnsServiceIp = "TN011", "aks-dns-service-ip", Error, "check",
        summary: "An AKS cluster's DNS service IP is outside its service CIDR, or is the range's network, first or broadcast address.",
        why: "The cluster DNS service (CoreDNS) takes the DNS service IP from the service CIDR; outside it, AKS refuses the cluster (`DnsServiceIpOutOfServiceCidr`). The first address (.1) is the kubernetes API service's (`kubernetes.default.svc.cluster.local`).",
        example: "serviceCidr 10.0.0.0/16 with dnsServiceIP 10.1.0.10",
        fix: "Use the .10 address of the service CIDR.",
        reference: "https://learn.microsoft.com/azure/aks/configure-azure-cni#deployment-parameters; https://learn.microsoft.com/azure/aks/configure-kubenet";
    AksReservedRange = "TN012", "aks-reserved-range", Error, "check",
        summary: "An AKS service or pod CIDR, or the cluster's VNet, overlaps 169.254.0.0/16, 172.30.0.0/16, 172.31.0.0/16 or 192.0.2.0/24.",
        why: "AKS documents these four ranges as unusable for the service CIDR, the pod CIDR and the cluster VNet: the platform uses them (link-local metadata and host services, internal bridges, documentation range).",
        example: "podCidr 172.31.0.0/16",
        fix: "Choose ranges clear of the four (e.g. 10.244.0.0/16 for pods, 10.0.0.0/16 for services when the VNet does not use them).",
        reference: "https://learn.microsoft.com/azure/aks/configure-azure-cni#deployment-parameters; https://learn.microsoft.com/azure/aks/configure-kubenet";
    AksServiceCidrTooLarge = "TN013", "aks-service-cidr-too-large", Error, "check",
        summary: "An AKS cluster's service CIDR is a /12 or larger.",
        why: "AKS requires the service CIDR to be smaller than /12; a larger range is refused, and it would swallow address space other networks need.",
        example: "serviceCidr 10.0.0.0/8",
        fix: "Use a /16 (65,536 services is far more than a cluster runs) or another prefix longer than /12.",
        reference: "https://learn.microsoft.com/azure/aks/configure-azure-cni#deployment-parameters";
    AksDockerBridgeOverlap = "TN014", "aks-docker-bridge-overlap", Info, "check",
        summary: "An AKS cluster's docker bridge CIDR overlaps its network or service CIDR (a deprecated field).",
        why: "Clusters before containerd (Kubernetes 1.19) used the docker bridge on every node; an overlap cut nodes off from that range. AKS ignores the field since, removed it from API version 2023-04-01, and azurerm 4.0 dropped it: this matters only for old configurations.",
        example: "dockerBridgeCidr 10.0.0.1/16 in a VNet 10.0.0.0/16",
        fix: "Remove dockerBridgeCidr from the definition (current AKS ignores it); for an old cluster, use 172.17.0.1/16 when free.",
        reference: "https://learn.microsoft.com/azure/aks/configure-azure-cni (docker bridge, 2019–2021); AKS API 2023-04-01 release notes";
    AksPodCidrOverlap = "TN015", "aks-pod-cidr-overlap", Error, "check",
        summary: "An AKS cluster's pod CIDR (kubenet, CNI Overlay) overlaps its VNet, a subnet, a peered network, an on-premises range or the service CIDR.",
        why: "Pods take addresses from the pod CIDR; where it overlaps a real network or the service range, packets to those addresses go to pods instead. AKS refuses the overlap with subnets (`PodCidrOverlapExistingSubnetsCidr`) and with the service CIDR (`PodCidrOverlapServiceCidr`).",
        example: "podCidr 10.0.0.0/16 in a VNet 10.0.0.0/16",
        fix: "Pick a pod CIDR used nowhere else (the default 10.244.0.0/16 when free).",
        reference: "https://learn.microsoft.com/azure/aks/azure-cni-overlay#ip-address-planning; https://learn.microsoft.com/azure/aks/configure-kubenet";
    AksRegionMismatch = "TN016", "aks-region-mismatch", Error, "check",
        summary: "An AKS cluster's region differs from the region of the VNet its node pools use.",
        why: "A cluster's nodes must be in a subnet of a VNet in the cluster's region; AKS refuses a subnet in another region (`InvalidResourceReference`).",
        example: "a cluster in westeurope whose pool subnet is in a VNet in eastus2",
        fix: "Create the cluster in the VNet's region, or use a VNet in the cluster's region.",
        reference: "https://learn.microsoft.com/azure/aks/configure-azure-cni#prerequisites";
    AksSubnetDelegated = "TN017", "aks-subnet-delegated", Error, "check",
        summary: "An AKS node pool uses a subnet that is delegated to a service.",
        why: "A delegated subnet belongs to the service it is delegated to (container instances, Databricks …); AKS cannot place nodes there and refuses the pool (`SubnetIsDelegated`).",
        example: "a pool whose vnetSubnetID names a subnet delegated to Microsoft.ContainerInstance/containerGroups",
        fix: "Give the pool a subnet of its own without delegations.",
        reference: "https://learn.microsoft.com/azure/aks/configure-azure-cni#prerequisites; https://learn.microsoft.com/azure/virtual-network/subnet-delegation-overview";
    NsgRequirementUnmet = "TN020", "nsg-requirement-unmet", Error, "check",
        summary: "The NSG of an Azure ML compute subnet blocks traffic the guidance requires, for some or all addresses of the tag.",
        why: "Azure ML compute is managed through Azure Batch: without inbound TCP 29876–29877 from BatchNodeManagement and 44224 from AzureMachineLearning (and, when outbound is restricted, outbound to Storage, the container registries, Azure ML, Resource Manager and Entra ID) nodes never become usable and a cluster stays at 0 nodes. The verdict holds for every address of the tag, as `tagnet nsg require` gives it.",
        example: "a subnet NSG with `DenyAllInbound` at priority 1000 and no rule for AzureMachineLearning → 44224",
        fix: "Add an allow rule above the blocking one (the finding gives the `az network nsg rule create` command).",
        reference: "https://learn.microsoft.com/azure/machine-learning/how-to-secure-training-vnet; https://learn.microsoft.com/azure/batch/batch-virtual-network#network-security-groups-for-virtual-machine-configuration-pools";
    RequirementViaAppliance = "TN021", "requirement-via-appliance", Warning, "check",
        summary: "Outbound traffic the guidance requires is allowed by the compute subnet's NSG but routed to a firewall or gateway, whose rules tagnet does not see.",
        why: "Under forced tunneling (0.0.0.0/0 to an appliance or a gateway), the outbound flows Azure ML compute needs — storage, registries, Azure ML, Resource Manager, Entra ID — leave through the appliance, not the Internet. The NSG's allow is then half the answer: the firewall must allow them too, or jobs fail to read data, pull images or authenticate. tagnet evaluates the routes and the NSG together (`tagnet path --profile`) and names the route that takes them.",
        example: "route table `0.0.0.0/0 -> VirtualAppliance 10.0.0.4` with the UDRs for BatchNodeManagement and AzureMachineLearning, and an NSG allowing outbound 443",
        fix: "Allow the listed tags and ports on the firewall (application or network rules for the service tags), or add routes to Internet for them where policy allows; `tagnet path NET --from SUBNET --profile P` shows every requirement's path.",
        reference: "https://learn.microsoft.com/azure/machine-learning/how-to-access-azureml-behind-firewall; https://learn.microsoft.com/azure/virtual-network/virtual-networks-udr-overview";
    RequirementDroppedByRoute = "TN022", "requirement-dropped-by-route", Error, "check",
        summary: "Outbound traffic the guidance requires is allowed by the compute subnet's NSG but a route drops it (next hop None).",
        why: "A route with next hop None discards the traffic it takes, whatever the NSG allows: compute that cannot reach its storage, registry or Azure ML never becomes usable.",
        example: "a route `Storage.EastUS2 -> None` in the compute subnet's table",
        fix: "Remove the route or narrow it so it takes none of the listed addresses (the finding names it).",
        reference: "https://learn.microsoft.com/azure/virtual-network/virtual-networks-udr-overview#next-hop-types-across-azure-tools";
    NsgVnetTagUnderUdr = "TN023", "nsg-vnet-tag-under-udr", Warning, "check",
        summary: "Under a 0.0.0.0/0 user route, a rule on `VirtualNetwork` (such as the default AllowVnetInBound) may admit Internet sources.",
        why: "Learn defines `VirtualNetwork` as the VNet's space, peered and on-premises spaces \"and address prefixes used on user-defined routes. This tag might also contain default routes.\" With a 0.0.0.0/0 UDR (forced tunneling), field reports (azure-docs#22178) show the tag holding 0.0.0.0/0: AllowVnetInBound (65000) then allows every source the NSG does not deny first. tagnet evaluates each reading; this finding says the NSG's answer to an Internet source depends on it.",
        example: "a subnet with route `0.0.0.0/0 -> VirtualAppliance` and an NSG with only the default rules: TCP 22 from 203.0.113.1 allowed by AllowVnetInBound under one reading, denied by DenyAllInBound under the other",
        fix: "Add an inbound deny for any source (`*`) above 65000, after allows for the sources you need by prefix or service tag (a deny of `Internet` does not help: under that reading `Internet` is empty); do not rely on `VirtualNetwork` as \"inside only\" under forced tunneling.",
        reference: "https://learn.microsoft.com/azure/virtual-network/service-tags-overview#available-service-tags; https://github.com/MicrosoftDocs/azure-docs/issues/22178";
    StorageSubnetNotAllowed = "TN040", "storage-subnet-not-allowed", Error, "check",
        summary: "The workspace's storage account denies by default and its network rules do not include the compute subnet.",
        why: "Azure ML compute reads and writes the workspace's default storage (code, datasets, outputs). Behind a VNet, the account must allow the compute subnet (a service-endpoint rule) or be reached by a private endpoint; otherwise jobs fail on their first read, and a storage account in another VNet than the compute cannot be reached this way at all.",
        example: "networkAcls.defaultAction Deny with virtualNetworkRules naming only `vnet-ml/subnets/web`",
        fix: "Add the compute subnet to the account's network rules (the finding gives the `az storage account network-rule add` command).",
        reference: "https://learn.microsoft.com/azure/machine-learning/how-to-secure-workspace-vnet#secure-azure-storage-accounts";
    StorageTrustedServicesOff = "TN041", "storage-trusted-services-off", Error, "check",
        summary: "The workspace's storage account is behind a VNet and does not let trusted Microsoft services bypass its rules.",
        why: "Azure ML's own service (not only the compute) reaches the workspace storage; behind a VNet that needs `bypass: AzureServices` (\"Allow Azure services on the trusted services list\").",
        example: "networkAcls {defaultAction: Deny, bypass: None}",
        fix: "az storage account update --name NAME --bypass AzureServices",
        reference: "https://learn.microsoft.com/azure/machine-learning/how-to-secure-workspace-vnet#secure-azure-storage-accounts";
    KeyvaultSubnetNotAllowed = "TN042", "keyvault-subnet-not-allowed", Error, "check",
        summary: "The workspace's key vault denies by default and its network rules do not include the compute subnet.",
        why: "Azure ML compute reads the workspace's secrets (datastore credentials) from its key vault. Behind a VNet, the vault must allow the compute subnet or be reached by a private endpoint.",
        example: "networkAcls.defaultAction Deny with no virtualNetworkRules",
        fix: "Add the compute subnet to the vault's network rules (the finding gives the `az keyvault network-rule add` command).",
        reference: "https://learn.microsoft.com/azure/machine-learning/how-to-secure-workspace-vnet#secure-azure-key-vault";
    KeyvaultTrustedServicesOff = "TN043", "keyvault-trusted-services-off", Error, "check",
        summary: "The workspace's key vault is behind a VNet and does not let trusted Microsoft services bypass its rules.",
        why: "Azure ML's service reads the workspace's key vault; behind a VNet that needs `bypass: AzureServices`.",
        example: "networkAcls {defaultAction: Deny, bypass: None}",
        fix: "az keyvault update --name NAME --bypass AzureServices",
        reference: "https://learn.microsoft.com/azure/machine-learning/how-to-secure-workspace-vnet#secure-azure-key-vault";
    AcrNotPremium = "TN050", "acr-not-premium", Error, "check",
        summary: "The workspace's container registry is restricted to a VNet but is not Premium.",
        why: "Network rules and private endpoints of Azure Container Registry exist only in the Premium SKU; a Basic or Standard registry cannot be put behind the VNet, so a secured workspace cannot build or pull its images.",
        example: "sku Standard with networkRuleSet.defaultAction Deny",
        fix: "az acr update --name NAME --sku Premium",
        reference: "https://learn.microsoft.com/azure/machine-learning/how-to-secure-workspace-vnet#enable-azure-container-registry-acr";
    AcrNoImageBuildCompute = "TN051", "acr-no-image-build-compute", Error, "check",
        summary: "The workspace's container registry is behind a VNet and the workspace names no compute cluster to build images.",
        why: "Behind a VNet, Azure Container Registry Tasks cannot build the workspace's environment images; Azure ML must build them on a compute cluster in the VNet, named by the workspace's imageBuildCompute. Without it, the first job with a custom environment fails to build.",
        example: "a Premium registry with defaultAction Deny and a workspace without imageBuildCompute",
        fix: "az ml workspace update --name WS --resource-group RG --image-build-compute CLUSTER",
        reference: "https://learn.microsoft.com/azure/machine-learning/how-to-secure-workspace-vnet#enable-azure-container-registry-acr";
    AcrOtherVnet = "TN052", "acr-other-vnet", Error, "check",
        summary: "The workspace's container registry allows subnets of other VNets only, not the VNet of the workspace's compute.",
        why: "Behind a VNet, the registry must be reachable from the VNet that holds the workspace's compute (and storage): the compute pulls images from it, and the image-build cluster pushes them. Network rules naming only other VNets' subnets shut the compute out.",
        example: "networkRuleSet.virtualNetworkRules naming `vnet-other/subnets/build` while the compute runs in `vnet-ml`",
        fix: "Add a rule for the compute's subnet (`az acr network-rule add --name ACR --subnet SUBNET_ID`), or give the registry a private endpoint in the compute's VNet.",
        reference: "https://learn.microsoft.com/azure/machine-learning/how-to-secure-workspace-vnet#enable-azure-container-registry-acr";
    AcrUnreachable = "TN053", "acr-unreachable", Error, "check",
        summary: "The workspace's container registry denies every network and has no private endpoint: nothing in the VNet reaches it.",
        why: "A registry whose network rules deny by default, with no private endpoint, no VNet rule and no IP rule, refuses every caller but trusted Microsoft services using a managed identity. The workspace's compute cannot pull images from it, and image builds (on the imageBuildCompute, or serverless) cannot push to it: jobs with custom environments fail.",
        example: "a Premium registry with networkRuleSet.defaultAction Deny, no ipRules and no privateEndpointConnections",
        fix: "Give the registry a private endpoint in the compute's VNet (`az network private-endpoint create --group-id registry …`), or a network rule for the compute's subnet or the build's address.",
        reference: "https://learn.microsoft.com/azure/machine-learning/how-to-secure-workspace-vnet#enable-azure-container-registry-acr";
    WorkspaceVnetMismatch = "TN060", "workspace-vnet-mismatch", Error, "check",
        summary: "An Azure ML compute's VNet is in another region or subscription than its workspace.",
        why: "Azure ML requires the virtual network to be in the same region and subscription as the workspace; compute creation fails otherwise.",
        example: "a workspace in eastus2 with a compute cluster in a subnet of a VNet in westeurope",
        fix: "Use a VNet in the workspace's region and subscription (peer it with the other network if both are needed).",
        reference: "https://learn.microsoft.com/azure/machine-learning/how-to-secure-training-vnet#prerequisites";
    ManagedNetworkCompute = "TN061", "managed-network-compute", Info, "check",
        summary: "A compute of a workspace with a managed virtual network names a subnet of yours; its NSG and routes are not checked for it.",
        why: "With managed virtual network isolation (managedNetwork.isolationMode AllowInternetOutbound or AllowOnlyApprovedOutbound), Azure ML places the workspace's compute instances and clusters in the workspace's managed VNet and adds the required rules itself: outbound AzureActiveDirectory, AzureMachineLearning, BatchNodeManagement.<region>, AzureResourceManager, AzureFrontDoor, MicrosoftContainerRegistry and AzureMonitor, inbound AzureMachineLearning, and private endpoints to the workspace's storage, key vault and registry (Learn, how-to-managed-network, ms.date 07/19/2023). The NSG, routes and size of a subnet of yours do not govern that compute, so tagnet does not hold them to the compute's requirements.",
        example: "a compute cluster with subnet.id `vnet-ml/subnets/training` in a workspace with managedNetwork.isolationMode AllowOnlyApprovedOutbound",
        fix: "Drop the subnet from the compute (managed compute runs in the managed VNet); to run compute in your own VNet, use a workspace without a managed network.",
        reference: "https://learn.microsoft.com/azure/machine-learning/how-to-managed-network#list-of-required-rules";
    AciSubnetNotDelegated = "TN070", "aci-subnet-not-delegated", Error, "check",
        summary: "A container group is placed in a subnet that is not delegated to Microsoft.ContainerInstance/containerGroups.",
        why: "Azure Container Instances (used by Azure ML for VNet inference) deploy only into a subnet delegated to `Microsoft.ContainerInstance/containerGroups`, and that subnet holds nothing else.",
        example: "subnetIds naming `vnet-ml/subnets/compute` with no delegations",
        fix: "az network vnet subnet update --vnet-name VNET -n SUBNET -g RG --delegations Microsoft.ContainerInstance/containerGroups",
        reference: "https://learn.microsoft.com/azure/container-instances/container-instances-vnet";
    DatabricksSubnetsMissing = "TN080", "databricks-subnets-missing", Error, "check",
        summary: "A Databricks workspace injected in a VNet names subnets the VNet does not have, or they are not delegated to Databricks; with Azure ML in the VNet, its `default` subnet is missing.",
        why: "VNet injection needs the public (host) and private (container) subnets in the VNet, delegated to Microsoft.Databricks/workspaces. Azure ML's guidance for Databricks in the workspace's VNet also needs the VNet's `default` subnet beside `databricks-private` and `databricks-public`.",
        example: "customPublicSubnetName `databricks-public` in a VNet holding only `default`",
        fix: "Create the named subnets in the VNet, delegated to Microsoft.Databricks/workspaces (and keep a `default` subnet).",
        reference: "https://learn.microsoft.com/azure/databricks/security/network/classic/vnet-inject; MicrosoftDocs azure-docs how-to-enable-virtual-network.md (2020, Azure Databricks)";
    AttachedVmNotUbuntu = "TN090", "attached-vm-not-ubuntu", Error, "check",
        summary: "A virtual machine attached to Azure ML as compute does not run Ubuntu.",
        why: "Azure ML supports attached virtual machines running Ubuntu only; jobs on other images fail to start.",
        example: "an attached VM from MicrosoftWindowsServer WindowsServer 2019-Datacenter",
        fix: "Attach a VM from an Ubuntu image (publisher Canonical), e.g. the Data Science VM for Ubuntu.",
        reference: "https://learn.microsoft.com/azure/machine-learning/how-to-attach-compute-targets#remote-virtual-machines";
    AttachedVmNoSsh = "TN091", "attached-vm-no-ssh", Error, "check",
        summary: "The NSGs of an attached VM do not allow inbound TCP 22 from AzureMachineLearning.",
        why: "Azure ML drives attached VMs over SSH: the subnet and NIC NSGs must allow inbound TCP 22 from the AzureMachineLearning service tag.",
        example: "a NIC NSG whose only inbound rule denies port 22 from Internet",
        fix: "Allow inbound TCP 22 from the AzureMachineLearning service tag in the VM's subnet and NIC NSGs.",
        reference: "https://learn.microsoft.com/azure/machine-learning/how-to-secure-training-vnet (attached VMs: inbound SSH from AzureMachineLearning)";
    DuplicateResource = "TN096", "duplicate-resource", Warning, "check",
        summary: "The same resource is read from two files; the last one read is checked.",
        why: "Two exports of one resource (or two templates declaring it) may differ; tagnet checks one of them, and counting both would double the addresses a subnet needs.",
        example: "`compute.json` and `all.json` both holding the compute cluster `cpu-cluster`",
        fix: "Give each resource once: remove the stale export, or check the networks one at a time.",
        reference: "https://learn.microsoft.com/azure/azure-resource-manager/management/resource-name-rules";
    DanglingReference = "TN097", "dangling-reference", Warning, "check",
        summary: "A resource refers to another that the inputs do not hold.",
        why: "Subnets, NSGs, route tables, computes and clusters find each other by id. A reference to a resource that is not among the inputs cannot be checked, and in a template it often means a typo that fails the deployment.",
        example: "a compute cluster whose subnet.id names `vnet-ml/subnets/training`, while the VNet has only `compute`",
        fix: "Add the referenced resource's JSON to the inputs (`az … show -o json`), or correct the id.",
        reference: "https://learn.microsoft.com/azure/azure-resource-manager/templates/template-functions-resource#resourceid";
    CannotEvaluate = "TN098", "cannot-evaluate", Warning, "check",
        summary: "A value only the deployment knows: an ARM expression tagnet cannot evaluate offline, or a region it cannot tell.",
        why: "tagnet evaluates parameters (given with --parameters or their defaults), variables, copy loops, nested deployments and the template functions network templates use; reference(), list*(), uniqueString(), guid(), a linked template and resourceGroup().location (unless --location gives it) depend on the deployment. The value is left out rather than guessed, and the checks that need it say they were not made.",
        example: "`\"location\": \"[resourceGroup().location]\"` without --location",
        fix: "Give the value in a parameters file with --parameters FILE, the resource group's region with --location, or check the deployed resources' `az … show -o json` instead.",
        reference: "https://learn.microsoft.com/azure/azure-resource-manager/templates/template-expressions";
    BadValue = "TN099", "bad-value", Error, "check",
        summary: "A value in the network definition is not valid: not a CIDR prefix, or a resource that cannot be read.",
        why: "Azure rejects the deployment, or reads something other than what was meant (a prefix with host bits set is read as its network).",
        example: "`\"addressPrefix\": \"10.0.1.0/33\"`",
        fix: "Write the value as Azure expects it: ADDRESS/LENGTH with the host bits clear.",
        reference: "https://learn.microsoft.com/azure/virtual-network/virtual-networks-faq";
    MissingRoute = "TN101", "missing-route", Error, "routes audit",
        summary: "Required addresses do not leave through Internet.",
        why: "Under forced tunneling, Azure Batch and Azure Machine Learning reach their compute nodes from the addresses of BatchNodeManagement.<region> and AzureMachineLearning.<region>; the replies must leave through next hop Internet, or the nodes become unusable.",
        example: "a table with only `0.0.0.0/0 -> VirtualAppliance`: every required address takes that route",
        fix: "Add routes with next hop Internet for the prefixes listed (the plan does: `--format az`).",
        reference: "";
    NoDefaultRoute = "TN102", "no-default-route", Info, "routes audit",
        summary: "The table has no 0.0.0.0/0 route; the audit assumes none is advertised by BGP.",
        why: "Forced tunneling often comes from a 0.0.0.0/0 that the VPN or ExpressRoute gateway advertises by BGP, which no route table shows. Audited alone, such a table looks fine while the NIC sends everything to the gateway.",
        example: "an empty route table on a subnet whose gateway advertises 0.0.0.0/0",
        fix: "Audit the NIC's effective routes (`az network nic show-effective-route-table`), or declare the advertised default with --default-route VirtualNetworkGateway.",
        reference: "";
    RouteLimit = "TN103", "route-limit", Error, "routes audit",
        summary: "The plan would take the table over its route limit.",
        why: "Azure refuses a route beyond the table's limit (400 user routes), so a plan that needs more would stop halfway with the table half changed.",
        example: "a table of 390 routes that needs 23 more",
        fix: "Prune stale routes (--prune), merge routes (`tagnet udr --max-routes`), or split the subnets over two tables.",
        reference: "";
    ShadowedRoute = "TN104", "shadowed-route", Error, "routes audit",
        summary: "A more specific route takes required addresses away from a route to Internet.",
        why: "Azure picks the longest matching prefix, so a /24 to an appliance beats the /16 to Internet that was meant to carry the required addresses.",
        example: "`20.41.0.0/16 -> Internet` and `20.41.5.0/24 -> VirtualAppliance`, with BatchNodeManagement holding 20.41.5.224/27",
        fix: "Add more specific routes to Internet for the prefixes listed (the plan does), or narrow the shadowing route.",
        reference: "";
    StaleRoute = "TN105", "stale-route", Warning, "routes audit",
        summary: "A route tagnet wrote for the required tags carries none of their addresses now.",
        why: "Service tags change every week. A route written for them (named as `udr` names routes, or holding a prefix the tags had in --previous) that no longer carries a required address sends other traffic around the firewall and takes a slot of the table.",
        example: "`BatchNodeManagement-20.41.5.0_27 -> Internet` after Microsoft moved that range out of BatchNodeManagement.EastUS2",
        fix: "Delete it: the plan lists it for review, and deletes it with --prune.",
        reference: "";
    UnknownTagRoute = "TN106", "unknown-tag-route", Warning, "routes audit",
        summary: "A route's address prefix names a service tag this snapshot does not hold.",
        why: "The route was written for another cloud or a tag that was renamed or retired; tagnet cannot tell which addresses it carries, so the audit treats it as carrying none.",
        example: "`--address-prefix AzureMachineLearningX.EastUS2`",
        fix: "Check the name against `tagnet tags --name 'PATTERN'`, or audit with the snapshot of the table's cloud.",
        reference: "";
    UnrelatedInternetRoute = "TN107", "unrelated-internet-route", Info, "routes audit",
        summary: "A route to Internet that is not tied to the required tags.",
        why: "Other routes to Internet are usually deliberate (KMS activation at 20.118.99.224/32, a Storage route). tagnet reports them so they are seen, and never deletes them.",
        example: "`kms -> 20.118.99.224/32 -> Internet`",
        fix: "Nothing, if it is meant. To have tagnet treat it as its own, name it as `udr` does or pass --previous with the snapshot it was written from.",
        reference: "";
    Ipv6NotAudited = "TN108", "ipv6-not-audited", Warning, "routes audit",
        summary: "The table routes IPv6 away from Internet, and IPv6 was not audited.",
        why: "Without --ipv6 the audit checks IPv4 only. A route such as `::/0 -> VirtualAppliance` sends the required tags' IPv6 prefixes to the appliance; compute that uses IPv6 then loses its management traffic just as with IPv4.",
        example: "a table holding `::/0 -> VirtualAppliance 10.0.100.4`, audited without --ipv6",
        fix: "Rerun with --ipv6 to audit (and plan) the IPv6 routes too.",
        reference: "";
    OverBroadRoute = "TN109", "over-broad-route", Warning, "routes audit",
        summary: "A route tagnet wrote for the required tags is wider than the required prefixes it carries now.",
        why: "A prefix that shrank (a /28 now a /29), moved to another region or left the tag leaves the old wider route sending addresses that no longer belong to the service to Internet, past the firewall. The route still carries required addresses, so nothing looks missing.",
        example: "`BatchNodeManagement-20.41.5.0_28 -> Internet` after BatchNodeManagement.EastUS2 narrowed it to 20.41.5.0/29",
        fix: "Replace it by the required prefixes it carries: the plan creates those routes and deletes the wide one.",
        reference: "";
    NsgUnreachableRule = "TN201", "nsg-unreachable-rule", Warning, "nsg analyze",
        summary: "The rule can never match: the rules above it cover every flow it names.",
        why: "Rules apply in ascending priority and the first match wins, so a rule wholly covered by rules above it never decides anything; it usually means a priority is wrong.",
        example: "`Allow AzureMachineLearning :44224` at 300 below `Deny * *` at 200",
        fix: "Give it a lower priority number than the rules named, or delete it.",
        reference: "";
    NsgRedundantRule = "TN202", "nsg-redundant-rule", Info, "nsg analyze",
        summary: "Removing the rule changes no verdict.",
        why: "The rules below it decide every flow it reaches the same way (often the default rules). A redundant rule costs a slot of the 1,000 and misleads readers.",
        example: "`Allow VirtualNetwork -> VirtualNetwork *` at 300: AllowVnetInBound does the same",
        fix: "Delete it, or keep it deliberately as documentation of intent.",
        reference: "";
    NsgOppositeOverlap = "TN203", "nsg-opposite-overlap", Info, "nsg analyze",
        summary: "A rule partly overlaps a rule of opposite access above it.",
        why: "For the flows both name, the rule above decides; the lower rule's author may have expected it to apply to them too. Partial overlaps of allow and deny rules are where NSG mistakes hide.",
        example: "`Allow 10.0.0.0/16 :443` at 200 below `Deny 10.0.5.0/24 *` at 100",
        fix: "Check that the rule above should win for the shared flows; narrow one of the two rules if not.",
        reference: "";
    NsgUnknownTag = "TN204", "nsg-unknown-tag", Error, "nsg analyze",
        summary: "A rule names a service tag the snapshot does not hold.",
        why: "Azure refuses unknown tags at deployment, and tagnet cannot know which addresses the rule means; it is analysed as matching nothing.",
        example: "`sourceAddressPrefix: Storag.WestEurope`",
        fix: "Correct the name (the message suggests the closest tags), or analyse with a snapshot of the NSG's cloud.",
        reference: "";
    NsgUnknownAsg = "TN205", "nsg-unknown-asg", Error, "nsg analyze",
        summary: "A rule names an application security group whose members were not given.",
        why: "An ASG stands for the NICs placed in it, which an NSG file does not list; without members (`--asg NAME=IP[,IP…]`) tagnet cannot know which addresses the rule means, and analyses it as matching nothing.",
        example: "`sourceApplicationSecurityGroups: [{id: …/applicationSecurityGroups/asg-web}]` analysed without --asg asg-web=…",
        fix: "Give the group's members with --asg NAME=IP[,IP…] (`az network nic list --query` shows which NICs are in it).",
        reference: "https://learn.microsoft.com/azure/virtual-network/application-security-groups";
    FlowVerdictDrift = "TN301", "flow-verdict-drift", Error, "flows verify",
        summary: "A logged flow was allowed where the NSG given denies it, or the reverse.",
        why: "The NSG that ran in Azure is not the one you hold: a rule was added, removed or changed, an application security group holds other members, or the NSG applies at another scope (a NIC's NSG besides the subnet's). Every analysis made on the file is then about a network that does not exist.",
        example: "logged `D` by `DefaultRule_DenyAllInBound` for a flow the NSG file allows by `securityRules/AllowBatch`",
        fix: "Export the deployed NSGs of the subnet and of the NIC (`az network nsg show`), verify again with both (--nsg, --nic-nsg), and reconcile.",
        reference: "";
    FlowRuleDrift = "TN302", "flow-rule-drift", Warning, "flows verify",
        summary: "A logged flow was decided by another rule than the NSG given decides it with.",
        why: "The decision is the same, but the rule that made it in Azure is not the one that makes it in the NSG you hold: the deployed NSG has rules, priorities or address sets that yours does not. The next change may make the decisions differ too.",
        example: "logged `UserRule_AllowHttps`, while the NSG file's first matching rule is `defaultSecurityRules/AllowInternetOutBound`",
        fix: "Export the deployed NSG (`az network nsg show`) and compare it with the file; bring the file or the deployment back in line.",
        reference: "";
    FlowRequiredDenied = "TN303", "flow-required-denied", Error, "flows verify",
        summary: "A logged flow was denied that the requirement profile says must pass.",
        why: "The flow log shows the traffic the guidance requires (Batch node management on 29876-29877, Azure ML on 44224, the services' HTTPS) being dropped: the compute it serves fails in ways that are hard to trace, such as nodes stuck unusable or jobs that never start.",
        example: "an NSG flow log tuple `…,20.50.1.2,10.0.0.4,51000,29877,T,I,D,B,,,,` from BatchNodeManagement.westeurope",
        fix: "Allow the flow in the NSG that denied it (the logged rule names it); `tagnet nsg require` checks the NSG for every address of the tag.",
        reference: "https://learn.microsoft.com/azure/machine-learning/how-to-access-azureml-behind-firewall";
    FlowEncryptionDrop = "TN304", "flow-encryption-drop", Warning, "flows verify",
        summary: "A logged flow was dropped by virtual network encryption, not by an NSG.",
        why: "With VNet encryption enforced (`dropUnencrypted`), Azure drops traffic it cannot encrypt and logs it denied with the reason in the tuple's encryption field (`NX_NOT_ACCEPTED`, `NX_SW_NOT_READY`, `NX_NOT_SUPPORTED`). No NSG rule decided it, so comparing it with an NSG's verdict would report a drift that is not there; the flow is lost all the same.",
        example: "a VNet flow log tuple `…,10.0.0.4,10.1.0.5,50000,443,6,O,D,NX_NOT_ACCEPTED,0,0,0,0`",
        fix: "Check the VNet's encryption settings and the VM sizes of both ends (`az network vnet show --query encryption`); allow unencrypted traffic (`allowUnencrypted`) while a peer does not support encryption.",
        reference: "https://learn.microsoft.com/azure/virtual-network/virtual-network-encryption-overview";
}
