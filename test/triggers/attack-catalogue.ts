/**
 * The MITRE ATT&CK (Enterprise) facts the coverage table needs: tactic order and ids, and for each
 * technique the rules and triggers tag, its name and the tactics it belongs to.
 */

export interface Tactic {
  /** The rule tag, e.g. mitre_persistence. */
  readonly tag: string;
  readonly id: string;
  readonly name: string;
}

/** In ATT&CK's own order (the kill chain). */
export const TACTICS: readonly Tactic[] = [
  { tag: 'mitre_reconnaissance', id: 'TA0043', name: 'Reconnaissance' },
  { tag: 'mitre_resource_development', id: 'TA0042', name: 'Resource Development' },
  { tag: 'mitre_initial_access', id: 'TA0001', name: 'Initial Access' },
  { tag: 'mitre_execution', id: 'TA0002', name: 'Execution' },
  { tag: 'mitre_persistence', id: 'TA0003', name: 'Persistence' },
  { tag: 'mitre_privilege_escalation', id: 'TA0004', name: 'Privilege Escalation' },
  { tag: 'mitre_defense_evasion', id: 'TA0005', name: 'Defense Evasion' },
  { tag: 'mitre_credential_access', id: 'TA0006', name: 'Credential Access' },
  { tag: 'mitre_discovery', id: 'TA0007', name: 'Discovery' },
  { tag: 'mitre_lateral_movement', id: 'TA0008', name: 'Lateral Movement' },
  { tag: 'mitre_collection', id: 'TA0009', name: 'Collection' },
  { tag: 'mitre_command_and_control', id: 'TA0011', name: 'Command and Control' },
  { tag: 'mitre_exfiltration', id: 'TA0010', name: 'Exfiltration' },
  { tag: 'mitre_impact', id: 'TA0040', name: 'Impact' },
];

const IA = 'mitre_initial_access';
const EX = 'mitre_execution';
const PE = 'mitre_persistence';
const PR = 'mitre_privilege_escalation';
const DE = 'mitre_defense_evasion';
const CA = 'mitre_credential_access';
const DI = 'mitre_discovery';
const LM = 'mitre_lateral_movement';
const CO = 'mitre_collection';
const C2 = 'mitre_command_and_control';
const XF = 'mitre_exfiltration';
const IM = 'mitre_impact';

/** technique id → [name, tactic tags]. */
export const TECHNIQUES: Readonly<Record<string, readonly [string, readonly string[]]>> = {
  T1003: ['OS Credential Dumping', [CA]],
  'T1003.008': ['OS Credential Dumping: /etc/passwd and /etc/shadow', [CA]],
  T1005: ['Data from Local System', [CO]],
  T1006: ['Direct Volume Access', [DE]],
  T1014: ['Rootkit', [DE]],
  T1020: ['Automated Exfiltration', [XF]],
  'T1021.004': ['Remote Services: SSH', [LM]],
  T1027: ['Obfuscated Files or Information', [DE]],
  T1033: ['System Owner/User Discovery', [DI]],
  T1036: ['Masquerading', [DE]],
  'T1036.005': ['Masquerading: Match Legitimate Name or Location', [DE]],
  T1040: ['Network Sniffing', [CA, DI]],
  T1041: ['Exfiltration Over C2 Channel', [XF]],
  T1046: ['Network Service Discovery', [DI]],
  'T1053.003': ['Scheduled Task/Job: Cron', [EX, PE, PR]],
  T1055: ['Process Injection', [DE, PR]],
  'T1055.008': ['Process Injection: Ptrace System Calls', [DE, PR]],
  T1059: ['Command and Scripting Interpreter', [EX]],
  'T1059.004': ['Command and Scripting Interpreter: Unix Shell', [EX]],
  T1068: ['Exploitation for Privilege Escalation', [PR]],
  T1070: ['Indicator Removal', [DE]],
  'T1070.002': ['Indicator Removal: Clear Linux or Mac System Logs', [DE]],
  'T1070.003': ['Indicator Removal: Clear Command History', [DE]],
  'T1070.004': ['Indicator Removal: File Deletion', [DE]],
  T1071: ['Application Layer Protocol', [C2]],
  T1072: ['Software Deployment Tools', [EX, LM]],
  'T1078.003': ['Valid Accounts: Local Accounts', [DE, PE, PR, IA]],
  T1083: ['File and Directory Discovery', [DI]],
  T1090: ['Proxy', [C2]],
  T1095: ['Non-Application Layer Protocol', [C2]],
  T1098: ['Account Manipulation', [PE, PR]],
  'T1098.004': ['Account Manipulation: SSH Authorized Keys', [PE, PR]],
  T1105: ['Ingress Tool Transfer', [C2]],
  T1132: ['Data Encoding', [C2]],
  T1133: ['External Remote Services', [PE, IA]],
  T1136: ['Create Account', [PE]],
  'T1136.001': ['Create Account: Local Account', [PE]],
  T1140: ['Deobfuscate/Decode Files or Information', [DE]],
  T1190: ['Exploit Public-Facing Application', [IA]],
  'T1195.002': ['Supply Chain Compromise: Compromise Software Supply Chain', [IA]],
  T1204: ['User Execution', [EX]],
  'T1205.001': ['Traffic Signaling: Port Knocking', [DE, PE, C2]],
  'T1222.002': ['File and Directory Permissions Modification: Linux and Mac', [DE]],
  T1485: ['Data Destruction', [IM]],
  T1496: ['Resource Hijacking', [IM]],
  T1505: ['Server Software Component', [PE]],
  'T1505.003': ['Server Software Component: Web Shell', [PE]],
  T1528: ['Steal Application Access Token', [CA]],
  T1543: ['Create or Modify System Process', [PE, PR]],
  T1546: ['Event Triggered Execution', [PR, PE]],
  'T1546.004': ['Event Triggered Execution: Unix Shell Configuration Modification', [PR, PE]],
  'T1547.006': ['Boot or Logon Autostart Execution: Kernel Modules and Extensions', [PE, PR]],
  T1548: ['Abuse Elevation Control Mechanism', [PR, DE]],
  'T1548.001': ['Abuse Elevation Control Mechanism: Setuid and Setgid', [PR, DE]],
  'T1548.003': ['Abuse Elevation Control Mechanism: Sudo and Sudo Caching', [PR, DE]],
  T1552: ['Unsecured Credentials', [CA]],
  'T1552.001': ['Unsecured Credentials: Credentials In Files', [CA]],
  'T1552.004': ['Unsecured Credentials: Private Keys', [CA]],
  'T1552.005': ['Unsecured Credentials: Cloud Instance Metadata API', [CA]],
  'T1552.007': ['Unsecured Credentials: Container API', [CA]],
  T1554: ['Compromise Host Software Binary', [PE]],
  T1555: ['Credentials from Password Stores', [CA]],
  T1556: ['Modify Authentication Process', [CA, DE, PE]],
  'T1557.002': ['Adversary-in-the-Middle: ARP Cache Poisoning', [CA, CO]],
  T1542: ['Pre-OS Boot', [DE, PE]],
  T1562: ['Impair Defenses', [DE]],
  'T1562.001': ['Impair Defenses: Disable or Modify Tools', [DE]],
  'T1562.006': ['Impair Defenses: Indicator Blocking', [DE]],
  'T1562.008': ['Impair Defenses: Disable or Modify Cloud Logs', [DE]],
  'T1564.001': ['Hide Artifacts: Hidden Files and Directories', [DE]],
  T1565: ['Data Manipulation', [IM]],
  T1572: ['Protocol Tunneling', [C2]],
  T1574: ['Hijack Execution Flow', [PE, PR, DE]],
  T1609: ['Container Administration Command', [EX]],
  T1610: ['Deploy Container', [DE, EX]],
  T1611: ['Escape to Host', [PR]],
  T1613: ['Container and Resource Discovery', [DI]],
  T1620: ['Reflective Code Loading', [DE]],
  T1622: ['Debugger Evasion', [DE, DI]],
};
