import { createHash } from "crypto";
import * as pulumi from "@pulumi/pulumi";
import * as compute from "@pulumi/azure-native/compute";
import * as devtestlab from "@pulumi/azure-native/devtestlab";
import * as network from "@pulumi/azure-native/network";

export interface WindowsVmArgs {
    /** Required. Resource group that holds the VM and its network. */
    resourceGroupName: pulumi.Input<string>;
    /** Required. Azure region. */
    location: pulumi.Input<string>;
    /** Required. VM size, e.g. Standard_B2als_v2. */
    vmSize: string;
    /** Required. SKU of MicrosoftWindowsServer/WindowsServer; an Azure Edition (Gen2) SKU. */
    imageSku: string;
    /** Required. Local administrator name. */
    adminUsername: string;
    /** Required. Local administrator password; kept secret. */
    adminPassword: pulumi.Input<string>;
    /** Required. IPv4 CIDRs admitted to RDP (3389/tcp). Empty: no inbound rule at all. */
    rdpAllowedFrom: string[];
    /** Optional. Daily auto-shutdown; omit for none. */
    autoShutdown?: { time: string; timeZone: string };
    /** Required. Encrypt disks and caches at the host (needs the Microsoft.Compute/EncryptionAtHost feature). */
    encryptionAtHost: boolean;
    /** Required. Service endpoints on the VM's subnet, e.g. Microsoft.AzureCosmosDB for a Cosmos VNet rule. */
    subnetServiceEndpoints: string[];
    /** Required. Tags for every resource here that takes them (a subnet takes none). */
    tags: Record<string, string>;
}

// Stable private address plan: one /24 is plenty for one VM.
const ADDRESS_SPACE = "10.40.0.0/16";
const SUBNET_PREFIX = "10.40.1.0/24";
// The Windows computer name (NetBIOS) is at most 15 characters; the resource name may differ.
const COMPUTER_NAME = "cosmos-vm";

/**
 * A Windows Server VM with a system-assigned managed identity, Trusted Launch, and the network it
 * needs: a VNet and subnet guarded by an NSG, a NIC and a Standard static public IP (its outbound
 * path to Resource Manager and Cosmos DB, and RDP when allowed). OS disk and NIC are deleted with
 * the VM so `pulumi destroy` leaves no orphans.
 */
export class WindowsVm extends pulumi.ComponentResource {
    public readonly vmName: pulumi.Output<string>;
    public readonly vmId: pulumi.Output<string>;
    /** Object id of the VM's system-assigned identity: the principal that role assignments name. */
    public readonly principalId: pulumi.Output<string>;
    public readonly publicIpAddress: pulumi.Output<string>;
    public readonly subnetId: pulumi.Output<string>;
    /**
     * The VM's last extension operation. Azure runs a VM's extension operations (Run Command
     * included) one at a time and refuses one that overlaps another, so later ones wait for it.
     */
    public readonly extensionsReady: pulumi.Resource;
    /** The VM itself, for resources that are deleted with it. */
    public readonly vm: compute.VirtualMachine;

    constructor(name: string, args: WindowsVmArgs, opts?: pulumi.ComponentResourceOptions) {
        super("cosmos-vm-identity:index:WindowsVm", name, {}, opts);
        // Azure fixes these at creation and refuses to change them in place. When one changes, the VM
        // is replaced, and with it its NIC and public IP (a NIC and a public IP serve one VM at a
        // time, and the NIC is deleted with the old VM). A hash, so the password is not in the state.
        const createOnlySettings = pulumi.all([args.imageSku, args.adminUsername, COMPUTER_NAME, args.encryptionAtHost, args.adminPassword])
            .apply((settings) => createHash("sha256").update(JSON.stringify(settings)).digest("hex"));
        const replacedWithVm: pulumi.CustomResourceOptions = { parent: this, replacementTrigger: createOnlySettings };

        const subnet = this.privateNetwork(name, args);
        const { publicIp, nic } = this.publicInterface(name, args, subnet, replacedWithVm);
        const vm = this.virtualMachine(name, args, nic, replacedWithVm);
        const guestAttestation = this.guestAttestation(name, args, vm);
        if (args.autoShutdown) this.autoShutdownSchedule(name, args, args.autoShutdown, vm);

        this.vmName = vm.name;
        this.vmId = vm.id;
        this.principalId = vm.identity.apply((identity) => {
            if (!identity?.principalId) throw new Error("the VM has no system-assigned identity principal id");
            return identity.principalId;
        });
        this.publicIpAddress = publicIp.ipAddress.apply((ip) => ip ?? "");
        this.subnetId = subnet.id;
        this.extensionsReady = guestAttestation;
        this.vm = vm;
        this.registerOutputs({
            vmName: this.vmName,
            vmId: this.vmId,
            principalId: this.principalId,
            publicIpAddress: this.publicIpAddress,
            subnetId: this.subnetId,
        });
    }

    /** The private network: an NSG admitting RDP only from the listed ranges, a VNet, and the VM's subnet behind the NSG. */
    private privateNetwork(name: string, args: WindowsVmArgs): network.Subnet {
        const { resourceGroupName, location, tags } = args;
        const nsg = new network.NetworkSecurityGroup(`${name}-nsg`, {
            resourceGroupName,
            location,
            tags,
            securityRules: rdpRules(args.rdpAllowedFrom),
        }, { parent: this });

        const vnet = new network.VirtualNetwork(`${name}-vnet`, {
            resourceGroupName,
            location,
            tags,
            addressSpace: { addressPrefixes: [ADDRESS_SPACE] },
        }, { parent: this });

        return new network.Subnet(`${name}-subnet`, {
            resourceGroupName,
            virtualNetworkName: vnet.name,
            addressPrefix: SUBNET_PREFIX,
            networkSecurityGroup: { id: nsg.id },
            serviceEndpoints: args.subnetServiceEndpoints.map((service) => ({ service })),
            // No implicit default outbound access (being retired): the public IP is the way out.
            defaultOutboundAccess: false,
        }, { parent: this });
    }

    /** The VM's way in and out: a Standard static public IP on a NIC in the subnet; both replaced with the VM. */
    private publicInterface(name: string, args: WindowsVmArgs, subnet: network.Subnet, replacedWithVm: pulumi.CustomResourceOptions) {
        const { resourceGroupName, location, tags } = args;
        const publicIp = new network.PublicIPAddress(`${name}-pip`, {
            resourceGroupName,
            location,
            tags,
            sku: { name: network.PublicIPAddressSkuName.Standard, tier: network.PublicIPAddressSkuTier.Regional },
            publicIPAllocationMethod: network.IPAllocationMethod.Static,
            publicIPAddressVersion: network.IPVersion.IPv4,
        }, replacedWithVm);

        const nic = new network.NetworkInterface(`${name}-nic`, {
            resourceGroupName,
            location,
            tags,
            ipConfigurations: [{
                name: "ipconfig1",
                primary: true,
                subnet: { id: subnet.id },
                privateIPAllocationMethod: network.IPAllocationMethod.Dynamic,
                publicIPAddress: { id: publicIp.id },
            }],
        }, replacedWithVm);
        return { publicIp, nic };
    }

    /** The VM: Windows Server with a system-assigned identity, Trusted Launch, platform patching; its disk and NIC deleted with it. */
    private virtualMachine(name: string, args: WindowsVmArgs, nic: network.NetworkInterface, replacedWithVm: pulumi.CustomResourceOptions): compute.VirtualMachine {
        const { resourceGroupName, location, tags } = args;
        return new compute.VirtualMachine(`${name}-vm`, {
            resourceGroupName,
            location,
            tags,
            identity: { type: compute.ResourceIdentityType.SystemAssigned },
            hardwareProfile: { vmSize: args.vmSize },
            osProfile: {
                computerName: COMPUTER_NAME,
                adminUsername: args.adminUsername,
                adminPassword: args.adminPassword,
                windowsConfiguration: {
                    provisionVMAgent: true,
                    enableAutomaticUpdates: true,
                    // Azure Update Manager installs patches and checks for missing ones periodically.
                    patchSettings: {
                        patchMode: compute.WindowsVMGuestPatchMode.AutomaticByPlatform,
                        assessmentMode: compute.WindowsPatchAssessmentMode.AutomaticByPlatform,
                    },
                },
            },
            storageProfile: {
                imageReference: {
                    publisher: "MicrosoftWindowsServer",
                    offer: "WindowsServer",
                    sku: args.imageSku,
                    version: "latest",
                },
                osDisk: {
                    createOption: compute.DiskCreateOptionTypes.FromImage,
                    caching: compute.CachingTypes.ReadWrite,
                    managedDisk: { storageAccountType: compute.StorageAccountTypes.StandardSSD_LRS },
                    deleteOption: compute.DiskDeleteOptionTypes.Delete,
                },
            },
            networkProfile: {
                networkInterfaces: [{ id: nic.id, primary: true, deleteOption: compute.DeleteOptions.Delete }],
            },
            securityProfile: {
                securityType: compute.SecurityTypes.TrustedLaunch,
                uefiSettings: { secureBootEnabled: true, vTpmEnabled: true },
                // Only when asked: Azure refuses the property, even false, without the subscription feature.
                ...(args.encryptionAtHost ? { encryptionAtHost: true } : {}),
            },
            // Managed boot diagnostics: serial console and screenshots with no storage account to manage.
            diagnosticsProfile: { bootDiagnostics: { enabled: true } },
        }, replacedWithVm);
    }

    /** Boot integrity monitoring: lets Defender for Cloud attest the Trusted Launch boot chain. */
    private guestAttestation(name: string, args: WindowsVmArgs, vm: compute.VirtualMachine): compute.VirtualMachineExtension {
        const { resourceGroupName, location, tags } = args;
        return new compute.VirtualMachineExtension(`${name}-guest-attestation`, {
            resourceGroupName,
            location,
            tags,
            vmName: vm.name,
            vmExtensionName: "GuestAttestation",
            publisher: "Microsoft.Azure.Security.WindowsAttestation",
            type: "GuestAttestation",
            typeHandlerVersion: "1.0",
            autoUpgradeMinorVersion: true,
            enableAutomaticUpgrade: true,
            settings: {
                AttestationConfig: {
                    MaaSettings: { maaEndpoint: "", maaTenantName: "GuestAttestation" },
                    AscSettings: { ascReportingEndpoint: "", ascReportingFrequency: "" },
                    useCustomToken: "false",
                    disableAlerts: "false",
                },
            },
        }, {
            parent: this,
            // Azure refuses extension changes on a stopped VM (the evening auto-shutdown), deletes included;
            // deleting the VM removes its extensions anyway.
            deletedWith: vm,
        });
    }

    /** The daily auto-shutdown (DevTestLab schedule) that keeps an idle VM from costing compute hours. */
    private autoShutdownSchedule(name: string, args: WindowsVmArgs, shutdown: { time: string; timeZone: string }, vm: compute.VirtualMachine): void {
        const { resourceGroupName, location, tags } = args;
        new devtestlab.GlobalSchedule(`${name}-shutdown`, {
            resourceGroupName,
            location,
            tags,
            // Azure requires exactly this name for a VM's auto-shutdown schedule.
            name: pulumi.interpolate`shutdown-computevm-${vm.name}`,
            targetResourceId: vm.id,
            status: devtestlab.EnableStatus.Enabled,
            taskType: "ComputeVmShutdownTask",
            dailyRecurrence: { time: shutdown.time },
            timeZoneId: shutdown.timeZone,
            notificationSettings: { status: devtestlab.EnableStatus.Disabled },
        }, { parent: this, deleteBeforeReplace: true });
    }
}

/** NSG rules: RDP from the listed ranges only; with none listed, no inbound rule (Azure's defaults deny). */
export function rdpRules(allowedFrom: string[]): network.NetworkSecurityGroupArgs["securityRules"] {
    if (allowedFrom.length === 0) return [];
    return [{
        name: "AllowRdpFromListedAddresses",
        priority: 1000,
        direction: network.SecurityRuleDirection.Inbound,
        access: network.SecurityRuleAccess.Allow,
        protocol: network.SecurityRuleProtocol.Tcp,
        sourceAddressPrefixes: allowedFrom,
        sourcePortRange: "*",
        destinationAddressPrefix: "VirtualNetwork",
        destinationPortRange: "3389",
        description: "RDP from the addresses in cosmos-vm-identity:rdpAllowedFrom",
    }];
}
