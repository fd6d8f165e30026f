// Hostile requests to every endpoint of the real `mvlan serve`, in a network namespace of its own
// with real parent links (veth), so a NetworkDriver row fails for the reason it is about and not
// for "no such link". Each row is named after the item of issue #6 it covers. Every row must be
// refused with its status and a message naming the field, the value (escaped and cut short) and
// what would be valid; and the database file, every table in it and the links of the namespace
// must be exactly as they were.

#include <SQLiteCpp/SQLiteCpp.h>
#include <sched.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <system_error>
#include <vector>

#include "netlink/libnl_kernel.h"
#include "tests/support/netlink_probe.h"
#include "tests/support/daemon.h"

namespace mvlan::test {
namespace {

const std::string kNet = "dd884eff7552ed298b061a016836dcba0cf0383a87432ce88b41be817f47685d";
const std::string kPassNet = "876d82eb95174b22a54d00fbe0c8d177975d095458fa4a656cbdca367f298f6f";
const std::string kNewNet = "a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0c1d2e3f4a5b6c7d8e9f0a1b2";
const std::string kEp = "60d9877deda382f7e23595cd12421c3b1e646cccdb34a95ce0d54f7d8361f382";
const std::string kNewEp = "186048c5dbd0dc2ae5343b39705c208bcfda9d6cb5c194954118d742d76546ad";
const std::string kPool = "LocalDefault/198.51.100.0/24/198.51.100.64/26";
const std::string kPool6 = "LocalDefault/2001:db8:7::/64";
// A string as long as a body under the 1 MiB limit allows, and how messages show its size.
const size_t kBig = (1u << 20) - 4096;
const std::string kBigSize = "(" + std::to_string(kBig) + " bytes)";

struct Row {
  std::string name;
  std::string path;
  std::string body;
  int status;
  std::vector<std::string> mentions;  // each must appear in the message
};

std::string ipv4_with_gateway(const std::string& gateway) {
  return R"([{"AddressSpace":"LocalDefault","Gateway":")" + gateway +
         R"(","Pool":"198.51.100.0/24"}])";
}
const std::string kIpv4Data = ipv4_with_gateway("198.51.100.1/24");

// CreateNetwork as Docker 20.10 sends it, with the parts a row changes given as JSON text.
std::string network(const std::string& generic, const std::string& id = kNewNet,
                    const std::string& ipv4 = kIpv4Data,
                    const std::string& flags = R"("com.docker.network.enable_ipv6":false)") {
  return R"({"NetworkID":")" + id + R"(","Options":{)" + flags +
         R"(,"com.docker.network.generic":)" + generic + R"(},"IPv4Data":)" + ipv4 +
         R"(,"IPv6Data":[]})";
}
std::string parent(const std::string& json_text) {
  return network(R"({"parent":")" + json_text + R"("})");
}
std::string with_w1(const std::string& key, const std::string& json_text) {
  return network(R"({"parent":"w1",")" + key + R"(":")" + json_text + R"("})");
}
std::string gw_check(const std::string& generic) {
  return R"({"Options":{"com.docker.network.generic":)" + generic + "}}";
}
std::string endpoint(const std::string& iface, const std::string& net = kNet,
                     const std::string& ep = kNewEp) {
  return R"({"NetworkID":")" + net + R"(","EndpointID":")" + ep + R"(","Interface":)" + iface +
         R"(,"Options":{}})";
}
std::string mac(const std::string& m) {
  return endpoint(R"({"Address":"198.51.100.65/24","AddressIPv6":"","MacAddress":")" + m + "\"}");
}
std::string ids(const std::string& net, const std::string& ep) {
  return R"({"NetworkID":")" + net + R"(","EndpointID":")" + ep + "\"}";
}
std::string pool(const std::string& fields) {
  return R"({"AddressSpace":"LocalDefault","Options":{},)" + fields + "}";
}
std::string address(const std::string& a, const std::string& pool_id = kPool) {
  return R"({"PoolID":")" + pool_id + R"(","Address":")" + a + R"(","Options":null})";
}
std::string nested(int depth) {
  return std::string(static_cast<size_t>(depth), '[') +
         std::string(static_cast<size_t>(depth), ']');
}

std::string nested_objects(int depth) {
  std::string s;
  for (int i = 0; i < depth; ++i) s += R"({"a":)";
  return s + "1" + std::string(static_cast<size_t>(depth), '}');
}

std::vector<Row> rows() {
  const std::string cn = "/NetworkDriver.CreateNetwork";
  const std::string gw = "/NetworkDriver.GwAllocCheck";
  const std::string dn = "/NetworkDriver.DeleteNetwork";
  const std::string ce = "/NetworkDriver.CreateEndpoint";
  const std::string de = "/NetworkDriver.DeleteEndpoint";
  const std::string join = "/NetworkDriver.Join";
  const std::string leave = "/NetworkDriver.Leave";
  const std::string rp = "/IpamDriver.RequestPool";
  const std::string relp = "/IpamDriver.ReleasePool";
  const std::string ra = "/IpamDriver.RequestAddress";
  const std::string rel = "/IpamDriver.ReleaseAddress";
  const std::string big(kBig, 'x');
  const std::string big_digits(kBig, '7');
  const std::string valid = "a link such as eth0";  // "what would be valid" for link names
  const std::string chars = "letters, digits, '_', '-' and '.' only";

  // clang-format off
  return {
      // Interface names over 15 characters or with '/', '..', spaces or control characters
      {"link name: 16 characters", cn, parent("abcdefghijklmnop"), 400,
       {"option parent=\"abcdefghijklmnop\"", "at most 15 characters (this one has 16)"}},
      {"link name: a VLAN name of 16 characters", cn, parent("abcdefghijkl.100"), 400,
       {"option parent=\"abcdefghijkl.100\"", "at most 15 characters"}},
      {"link name: with '/'", cn, parent("w1/x"), 400, {"option parent=\"w1/x\"", chars}},
      {"link name: a path through '..'", cn, parent("../w1"), 400,
       {"option parent=\"../w1\"", chars}},
      {"link name: '..'", cn, parent(".."), 400, {"option parent=\"..\"", valid}},
      {"link name: '.'", cn, parent("."), 400, {"option parent=\".\"", valid}},
      {"link name: a space inside", cn, parent("w 1"), 400, {"option parent=\"w 1\"", chars}},
      {"link name: a trailing space", cn, parent("w1 "), 400, {"option parent=\"w1 \"", chars}},
      {"link name: a newline (control character)", cn, parent("w1\\n"), 400,
       {"option parent=\"w1\\n\"", chars}},
      {"link name: a tab (control character)", cn, parent("\\tw1"), 400,
       {"option parent=\"\\tw1\"", chars}},
      {"link name: NUL (control character)", cn, parent("w1\\u0000x"), 400,
       {"option parent=\"w1\\u0000x\"", chars}},
      {"link name: ESC (control character)", cn, parent("w1\\u001b[0m"), 400,
       {"option parent=\"w1\\u001B[0m\"", chars}},
      {"link name: DEL (control character)", cn, parent("w1\\u007f"), 400,
       {"option parent=\"w1\\u007F\"", chars}},
      {"link name: non-ASCII letters", cn, parent("w\\u00e9th0"), 400,
       {"option parent=\"w\xc3\xa9th0\"", chars}},
      {"link name: empty", cn, parent(""), 400, {"option parent=\"\"", "such as eth0"}},
      {"link name: the loopback", cn, parent("lo"), 400, {"option parent=\"lo\"", "loopback"}},
      {"link name: a link that does not exist", cn, parent("nosuch0"), 400,
       {"option parent=nosuch0", "no such link", "NAME.VID"}},
      // VLAN ids 0, 4095, -1 and abc
      {"VLAN id 0", cn, parent("w1.0"), 400, {"option parent=\"w1.0\"", "VLAN id 0", "1-4094"}},
      {"VLAN id 4095", cn, parent("w1.4095"), 400,
       {"option parent=\"w1.4095\"", "VLAN id 4095", "1-4094"}},
      {"VLAN id -1", cn, parent("w1.-1"), 400,
       {"option parent=\"w1.-1\"", "a number from 1 to 4094", "eth0.100"}},
      {"VLAN id abc", cn, parent("w1.abc"), 400,
       {"option parent=\"w1.abc\"", "a number from 1 to 4094"}},
      {"VLAN id empty", cn, parent("w1."), 400,
       {"option parent=\"w1.\"", "a number from 1 to 4094"}},
      {"VLAN id huge", cn, parent("w1.99999999999"), 400,
       {"option parent=\"w1.99999999999\"", "VLAN id 99999999... (11 bytes)", "1-4094"}},
      {"VLAN id on a base that does not exist", cn, parent("nosuch.100"), 400,
       {"option parent=nosuch.100", "base link nosuch does not exist"}},
      {"VLAN id on the loopback", cn, parent("lo.100"), 400,
       {"option parent=\"lo.100\"", "lo cannot carry VLANs"}},
      // MTUs out of range
      {"MTU 0", cn, with_w1("mtu", "0"), 400, {"option mtu=\"0\"", "from 68 up to the parent"}},
      {"MTU 67", cn, with_w1("mtu", "67"), 400, {"option mtu=\"67\"", "from 68"}},
      {"MTU -1", cn, with_w1("mtu", "-1"), 400, {"option mtu=\"-1\"", "from 68"}},
      {"MTU abc", cn, with_w1("mtu", "abc"), 400, {"option mtu=\"abc\"", "whole number"}},
      {"MTU 1e3", cn, with_w1("mtu", "1e3"), 400, {"option mtu=\"1e3\"", "whole number"}},
      {"MTU with a leading space", cn, with_w1("mtu", " 1500"), 400, {"option mtu=\" 1500\""}},
      {"MTU above the parent's", cn, with_w1("mtu", "9000"), 400,
       {"option mtu=9000", "MTU 1500 of parent w1", "at most 1500"}},
      {"MTU huge", cn, with_w1("mtu", "99999999999999999999"), 400,
       {"option mtu=\"99999999999999999999\"", "from 68"}},
      {"MTU empty", cn, with_w1("mtu", ""), 400, {"option mtu=\"\"", "from 68"}},
      // Other option values
      {"macvlan_mode junk", cn, with_w1("macvlan_mode", "bridgex"), 400,
       {"option macvlan_mode=\"bridgex\"", "bridge (default), private, vepa and passthru"}},
      {"macvlan_mode in capitals", cn, with_w1("macvlan_mode", "BRIDGE"), 400,
       {"option macvlan_mode=\"BRIDGE\"", "bridge (default)"}},
      {"macvlan_mode with a newline", cn, with_w1("macvlan_mode", "vepa\\n"), 400,
       {"option macvlan_mode=\"vepa\\n\"", "passthru"}},
      {"an unknown option key", cn, with_w1("parnet", "w1"), 400,
       {"unknown option \"parnet\"", "did you mean parent?", "parent, macvlan_mode, mtu"}},
      {"an option key with control characters", cn, with_w1("\\u0007bell", "1"), 400,
       {"unknown option \"\\u0007bell\"", "mvlan's options are"}},
      {"host_access junk", cn, with_w1("host_access", "198.51.100.300"), 400,
       {"option host_access=\"198.51.100.300\"", "such as 192.0.2.254", "or auto"}},
      {"a second network on a passthru parent", cn,
       network(R"({"parent":"w2","macvlan_mode":"bridge"})"), 409,
       {"parent w2 is held by network 876d82eb9517 in passthru mode"}},
      {"a network id that exists", cn, network(R"({"parent":"w1"})", kNet), 409,
       {"network dd884eff7552 already exists"}},
      // Invalid and mixed-family CIDRs in the network driver
      {"invalid CIDR: gateway without a prefix length", cn,
       network(R"({"parent":"w1"})", kNewNet, ipv4_with_gateway("198.51.100.1")),
       400, {"field IPv4Data[0].Gateway \"198.51.100.1\"", "such as 192.0.2.1/24"}},
      {"mixed family: an IPv6 gateway in IPv4Data", cn,
       network(R"({"parent":"w1"})", kNewNet, ipv4_with_gateway("2001:db8::1/64")),
       400, {"field IPv4Data[0].Gateway 2001:db8::1/64 is IPv6", "give an IPv4 address"}},
      {"mixed family: an IPv4 Address in AddressIPv6", ce,
       endpoint(R"({"Address":"","AddressIPv6":"198.51.100.66/24","MacAddress":""})"), 400,
       {"field Interface.AddressIPv6 198.51.100.66/24 is IPv4", "2001:db8::10/64"}},
      {"mixed family: an IPv6 Address in Address", ce,
       endpoint(R"({"Address":"2001:db8:7::5/64","AddressIPv6":"","MacAddress":""})"), 400,
       {"field Interface.Address 2001:db8:7::5/64 is IPv6", "192.0.2.10/24"}},
      {"mixed family: an IPv6 SubPool in an IPv4 Pool", rp,
       pool(R"("Pool":"203.0.113.0/24","SubPool":"2001:db8::/64","V6":false)"), 400,
       {"invalid SubPool \"2001:db8::/64\"", "an IPv6 prefix in a request for an IPv4 pool"}},
      {"mixed family: an IPv4 Address in an IPv6 pool", rel, address("198.51.100.10", kPool6), 400,
       {"Address 198.51.100.10 is outside pool 2001:db8:7::/64", "nothing was released"}},
      {"invalid CIDR: endpoint address without a prefix length", ce,
       endpoint(R"({"Address":"198.51.100.65","AddressIPv6":"","MacAddress":""})"), 400,
       {"field Interface.Address \"198.51.100.65\"", "such as 192.0.2.10/24"}},
      {"invalid CIDR: endpoint address /33", ce,
       endpoint(R"({"Address":"198.51.100.65/33","AddressIPv6":"","MacAddress":""})"), 400,
       {"field Interface.Address \"198.51.100.65/33\"", "prefix length"}},
      {"invalid CIDR: endpoint address 256.1.1.1/24", ce,
       endpoint(R"({"Address":"256.1.1.1/24","AddressIPv6":"","MacAddress":""})"), 400,
       {"field Interface.Address \"256.1.1.1/24\""}},
      {"invalid CIDR: IPv6 Pool with two '::'", rp, pool(R"("Pool":"2001::db8::/64","V6":true)"),
       400, {"invalid Pool \"2001::db8::/64\"", "such as 2001:db8:1::/64"}},
      // Host bits set, /0
      {"host bits set: IPv6 Pool", rp, pool(R"("Pool":"2001:db8:9::1/64","V6":true)"), 400,
       {"invalid Pool \"2001:db8:9::1/64\"", "did you mean 2001:db8:9::/64"}},
      {"host bits set: IPv6 SubPool", rp,
       pool(R"("Pool":"2001:db8:9::/64","SubPool":"2001:db8:9::1:1/112","V6":true)"), 400,
       {"invalid SubPool \"2001:db8:9::1:1/112\"", "did you mean"}},
      {"/0 SubPool", rp, pool(R"("Pool":"203.0.113.0/24","SubPool":"0.0.0.0/0","V6":false)"), 400,
       {"invalid SubPool \"0.0.0.0/0\"", "inside the pool 203.0.113.0/24"}},
      {"/0 address for RequestAddress", ra, address("198.51.100.20/0"), 400,
       {"field Address \"198.51.100.20/0\"", "plain IPv4 or IPv6 address"}},
      // Huge and negative numbers
      {"huge number: NetworkID 1e999", cn, R"({"NetworkID":1e999})", 400, {"not valid JSON"}},
      {"huge number: integer past 64 bits as PoolID", relp, R"({"PoolID":18446744073709551616})",
       400, {"field PoolID must be a string, got a number"}},
      {"negative number: EndpointID -1", join, R"({"NetworkID":")" + kNet + R"(","EndpointID":-1})",
       400, {"field EndpointID must be a string, got a number -1"}},
      {"negative number: V6 -1", rp, pool(R"("Pool":"203.0.113.0/24","V6":-1)"), 400,
       {"field V6 must be true or false, got a number -1"}},
      {"huge number: a prefix length past 64 bits", rp,
       pool(R"("Pool":"203.0.113.0/18446744073709551641","V6":false)"), 400,
       {"invalid Pool \"203.0.113.0/18446744073709551641\"", "such as 192.0.2.0/24"}},
      {"huge number: Address as a 40-digit number", ra,
       address("1234567890123456789012345678901234567890"), 400,
       {"field Address \"1234567890123456789012345678901234567890\"", "plain IPv4"}},
      // Wrong JSON types, on every driver call
      {"wrong type: NetworkID a number", cn, R"({"NetworkID":5})", 400,
       {"field NetworkID must be a string, got a number 5"}},
      {"wrong type: Options an array", cn, R"({"NetworkID":")" + kNewNet + R"(","Options":[]})",
       400, {"field Options must be an object, got an array"}},
      {"wrong type: generic options a string", cn,
       R"({"NetworkID":")" + kNewNet + R"(","Options":{"com.docker.network.generic":"parent=w1"}})",
       400,
       {"field com.docker.network.generic must be an object of strings, got a string "
        "\"parent=w1\""}},
      {"wrong type: an option value a number", cn, network(R"({"parent":"w1","mtu":1500})"), 400,
       {"field com.docker.network.generic.mtu must be a string, got a number 1500"}},
      {"wrong type: enable_ipv6 a number", cn,
       network(R"({"parent":"w1"})", kNewNet, kIpv4Data, R"("com.docker.network.enable_ipv6":1)"),
       400, {"Options.com.docker.network.enable_ipv6 must be true or false, got a number"}},
      {"wrong type: IPv4Data an object", cn,
       R"({"NetworkID":")" + kNewNet + R"(","IPv4Data":{"Pool":"198.51.100.0/24"}})", 400,
       {"field IPv4Data must be an array, got an object"}},
      {"wrong type: IPv4Data holding a string", cn,
       R"({"NetworkID":")" + kNewNet + R"(","IPv4Data":["198.51.100.0/24"]})", 400,
       {"field IPv4Data must hold objects, got a string"}},
      {"wrong type: Gateway a number", cn,
       network(R"({"parent":"w1"})", kNewNet, R"([{"Gateway":3325256705}])"), 400,
       {"field Gateway must be a string, got a number 3325256705"}},
      {"wrong type: GwAllocCheck Options a string", gw, R"({"Options":"internal"})", 400,
       {"field Options must be an object, got a string \"internal\""}},
      {"wrong type: Interface a string", ce,
       R"({"NetworkID":")" + kNet + R"(","EndpointID":")" + kNewEp + R"(","Interface":"eth0"})",
       400, {"field Interface must be an object, got a string \"eth0\""}},
      {"wrong type: MacAddress a number", ce, endpoint(R"({"MacAddress":2})"), 400,
       {"field MacAddress must be a string, got a number 2"}},
      {"wrong type: EndpointID null", de, R"({"NetworkID":")" + kNet + R"(","EndpointID":null})",
       400, {"field EndpointID must be a string, got null"}},
      {"wrong type: NetworkID a boolean", dn, R"({"NetworkID":true})", 400,
       {"field NetworkID must be a string, got a boolean true"}},
      {"wrong type: Leave's EndpointID an object", leave,
       R"({"NetworkID":")" + kNet + R"(","EndpointID":{"id":1}})", 400,
       {"field EndpointID must be a string, got an object {\"id\":1}"}},
      {"wrong type: Join's body an array", join, "[]", 400,
       {"request body must be a JSON object, got an array"}},
      {"wrong type: ProgramExternalConnectivity body a number",
       "/NetworkDriver.ProgramExternalConnectivity", "42", 400,
       {"request body must be a JSON object, got a number"}},
      // Duplicate keys
      {"duplicate key: NetworkID", cn,
       R"({"NetworkID":")" + kNewNet + R"(","NetworkID":")" + kNet + "\"}", 400,
       {"repeats the key \"NetworkID\""}},
      {"duplicate key: parent inside the generic options", cn,
       network(R"({"parent":"w1","parent":"w2"})"), 400, {"repeats the key \"parent\""}},
      {"duplicate key: MacAddress", ce,
       endpoint(R"({"MacAddress":"02:42:c6:33:64:41","MacAddress":"02:42:c6:33:64:42"})"), 400,
       {"repeats the key \"MacAddress\""}},
      {"duplicate key: EndpointID in Join", join,
       R"({"NetworkID":")" + kNet + R"(","EndpointID":")" + kEp + R"(","EndpointID":")" +
           kNewEp + "\"}",
       400, {"repeats the key \"EndpointID\""}},
      {"duplicate key: PoolID in ReleasePool", relp,
       R"({"PoolID":")" + kPool + R"(","PoolID":")" + kPool6 + "\"}", 400,
       {"repeats the key \"PoolID\""}},
      // Deep nesting
      {"deep nesting: 33 levels in CreateNetwork", cn,
       R"({"NetworkID":")" + kNewNet + R"(","X":)" + nested(32) + "}", 400,
       {"nests deeper than 32 levels"}},
      {"deep nesting: 500000 levels in CreateEndpoint", ce, nested(500000), 400,
       {"nests deeper than 32 levels"}},
      {"deep nesting: generic options 40 objects deep", gw,
       gw_check(R"({"parent":"w1","x":)" + nested_objects(40) + "}"), 400,
       {"nests deeper than 32 levels"}},
      // Invalid UTF-8
      // (the parser's message quotes the bytes it stopped at: escaped, so the message stays UTF-8)
      {"invalid UTF-8: in a link name", cn, parent("w1\xff"), 400,
       {"not valid JSON", "ill-formed UTF-8", "\"w1\\xFF"}},
      {"invalid UTF-8: an overlong '/' in a link name", cn, parent("w1\xc0\xaf"), 400,
       {"not valid JSON", "ill-formed UTF-8", "\"w1\\xC0"}},
      {"invalid UTF-8: an encoded surrogate in a key", ce,
       R"({"NetworkID":")" + kNet + "\",\"\xed\xa0\x80\":1}", 400, {"not valid JSON", "UTF-8"}},
      {"invalid UTF-8: in a PoolID", ra, address("198.51.100.20", "LocalDefault/\xfe"), 400,
       {"not valid JSON", "UTF-8"}},
      {"invalid UTF-8: a lone surrogate escape in a MAC", ce, mac("02:42\\udc00"), 400,
       {"not valid JSON"}},
      // 1 MiB strings (as much as the body limit leaves room for)
      {"1 MiB string: link name", cn, parent(big), 400,
       {"option parent=\"xxxxxxxx", "...\" " + kBigSize, "at most 15 characters"}},
      {"1 MiB string: NetworkID", dn, R"({"NetworkID":")" + big + "\"}", 400,
       {"field NetworkID \"xxxxx", kBigSize, "not a Docker id"}},
      {"1 MiB string: MAC", ce, mac(big), 400,
       {"field Interface.MacAddress \"xxx", kBigSize, "such as 02:42:c0:00:02:0a"}},
      {"1 MiB string: option key", cn, network(R"({")" + big + R"(":"1"})"), 400,
       {"unknown option \"xxx", kBigSize, "mvlan's options are"}},
      {"1 MiB string: PoolID", ra, address("", big_digits), 404,
       {"unknown PoolID \"7777", kBigSize}},
      {"1 MiB string: Address", rel, address(big_digits), 400,
       {"field Address \"7777", kBigSize, "plain IPv4 or IPv6"}},
      {"1 MiB string: a number where a string belongs", ra, R"({"PoolID":)" + big_digits + "}", 400,
       {"not valid JSON", "number overflow parsing '7777", "...", " bytes)"}},
      // Multicast and all-zero MACs
      {"MAC: multicast", ce, mac("01:00:5e:00:00:fb"), 400,
       {"field Interface.MacAddress 01:00:5e:00:00:fb is a multicast address", "unicast MAC"}},
      {"MAC: broadcast", ce, mac("ff:ff:ff:ff:ff:ff"), 400,
       {"ff:ff:ff:ff:ff:ff is a multicast address", "first octet even"}},
      {"MAC: all zeros", ce, mac("00:00:00:00:00:00"), 400,
       {"field Interface.MacAddress 00:00:00:00:00:00 is all zeros", "unicast MAC"}},
      {"MAC: five octets", ce, mac("02:42:c6:33:64"), 400,
       {"field Interface.MacAddress \"02:42:c6:33:64\"", "such as 02:42:c0:00:02:0a"}},
      {"MAC: dashes", ce, mac("02-42-c6-33-64-41"), 400,
       {"\"02-42-c6-33-64-41\" is not a MAC address"}},
      {"MAC: not hex", ce, mac("02:42:c6:33:64:zz"), 400, {"\"02:42:c6:33:64:zz\" is not a MAC"}},
      {"MAC: in RequestAddress's options", ra,
       R"({"PoolID":")" + kPool +
           R"(","Address":"","Options":{"com.docker.network.endpoint.macaddress":"02:42:zz"}})",
       400,
       {"field Options.com.docker.network.endpoint.macaddress \"02:42:zz\"",
        "is not a MAC address"}},
      // Unknown network or endpoint ids
      {"unknown network: CreateEndpoint", ce,
       endpoint(R"({"Address":"198.51.100.65/24"})", kNewNet), 404,
       {"unknown network a1b2c3d4e5f6", "no record of it"}},
      {"unknown endpoint: Join", join, ids(kNet, kNewEp), 404, {"unknown endpoint 186048c5dbd0"}},
      {"unknown network: Join of a known endpoint", join, ids(kNewNet, kEp), 404,
       {"endpoint 60d9877deda3 is not on network a1b2c3d4e5f6", "on network dd884eff7552"}},
      {"unknown network: Leave of a known endpoint", leave, ids(kPassNet, kEp), 404,
       {"endpoint 60d9877deda3 is not on network 876d82eb9517"}},
      {"unknown network: DeleteEndpoint of a known endpoint", de, ids(kNewNet, kEp), 404,
       {"endpoint 60d9877deda3 is not on network a1b2c3d4e5f6"}},
      {"a known endpoint id again", ce, endpoint(R"({"Address":"198.51.100.65/24"})", kNet, kEp),
       409, {"endpoint 60d9877deda3 already exists"}},
      {"unknown pool: RequestAddress", ra, address("", "LocalDefault/203.0.113.0/24"), 404,
       {"unknown PoolID \"LocalDefault/203.0.113.0/24\"", "no such pool"}},
      {"not an id: NetworkID with '..' and '/'", dn, R"({"NetworkID":"../../etc/passwd"})", 400,
       {"field NetworkID \"../../etc/passwd\"", "1 to 128 letters and digits"}},
      {"not an id: EndpointID with a newline", leave,
       R"({"NetworkID":")" + kNet + R"(","EndpointID":"abc\ndef"})", 400,
       {"field EndpointID \"abc\\ndef\"", "letters and digits"}},
      {"not an id: NetworkID empty", join, ids("", kEp), 400,
       {"field NetworkID \"\"", "not a Docker id"}},
      {"not an id: 129 characters", ce, endpoint(R"({})", kNet, std::string(129, 'a')), 400,
       {"field EndpointID \"aaaa", "(129 bytes)", "1 to 128"}},
      {"an unknown NetworkDriver method", "/NetworkDriver.Join2", ids(kNet, kEp), 404,
       {"mvlan does not implement /NetworkDriver.Join2", "NetworkDriver.*"}},
  };
  // clang-format on
}

// Every table, row by row: a readable difference when a refused request changed something.
std::string dump_tables(const std::string& db_path) {
  SQLite::Database db(db_path, SQLite::OPEN_READONLY);
  std::vector<std::string> tables;
  SQLite::Statement list(db, "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name");
  while (list.executeStep()) tables.push_back(list.getColumn(0).getString());
  std::string out;
  for (const auto& t : tables) {
    out += "[" + t + "]\n";
    SQLite::Statement s(db, "SELECT * FROM \"" + t + "\" ORDER BY 1");
    while (s.executeStep()) {
      for (int i = 0; i < s.getColumnCount(); ++i) {
        out += s.getColumn(i).isNull() ? std::string("NULL") : s.getColumn(i).getString();
        out += "|";
      }
      out += "\n";
    }
  }
  return out;
}

std::string file_bytes(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

struct Snapshot {
  std::string tables;
  std::string db_file;  // the main file and the WAL: byte for byte
  std::string wal_file;
  std::set<std::string> links;
  bool operator==(const Snapshot&) const = default;
};

struct Lab {
  Lab() {
    if (::unshare(CLONE_NEWNET) != 0)
      throw std::system_error(errno, std::generic_category(), "unshare");
    nl = std::make_unique<kernel::Netlink>();
    for (const auto& [a, b] : {std::pair{"w1", "w1p"}, std::pair{"w2", "w2p"}}) {
      create_veth_pair(a, b);
      nl->set_up(a);
      nl->set_up(b);
    }
    daemon.start();
  }
  std::unique_ptr<kernel::Netlink> nl;
  Daemon daemon;

  void ok(const std::string& path, const std::string& body) {
    const Answer a = daemon.post(path, body);
    INFO(path << " " << body << " -> " << a.status << " " << a.body);
    REQUIRE(a.status == 200);
  }
  Snapshot snapshot() {
    const std::string db = daemon.state_dir() + "/mvlan.db";
    Snapshot s{dump_tables(db), file_bytes(db), file_bytes(db + "-wal"), {}};
    for (const auto& l : nl->list_links()) s.links.insert(l.name);
    return s;
  }
};

// A pool with a gateway and a container on a bridge network over w1, joined; a passthru network
// on w2; an IPv6 pool: every row has something real to collide with.
void set_up_state(Lab& lab) {
  lab.ok("/IpamDriver.RequestPool",
         pool(R"("Pool":"198.51.100.0/24","SubPool":"198.51.100.64/26","V6":false)"));
  lab.ok("/IpamDriver.RequestAddress",
         R"({"PoolID":")" + kPool +
             R"(","Address":"198.51.100.1",)"
             R"("Options":{"RequestAddressType":"com.docker.network.gateway"}})");
  lab.ok("/IpamDriver.RequestPool", pool(R"("Pool":"2001:db8:7::/64","V6":true)"));
  lab.ok("/NetworkDriver.CreateNetwork",
         network(R"({"parent":"w1","macvlan_mode":"bridge"})", kNet));
  lab.ok("/NetworkDriver.CreateNetwork",
         network(R"({"parent":"w2","macvlan_mode":"passthru"})", kPassNet));
  lab.ok("/IpamDriver.RequestAddress",
         R"({"PoolID":")" + kPool +
             R"(","Address":"",)"
             R"("Options":{"com.docker.network.endpoint.macaddress":"02:42:c6:33:64:40"}})");
  lab.ok("/NetworkDriver.CreateEndpoint",
         endpoint(
             R"({"Address":"198.51.100.64/24","AddressIPv6":"","MacAddress":"02:42:c6:33:64:40"})",
             kNet, kEp));
  lab.ok("/NetworkDriver.Join", ids(kNet, kEp));
}

}  // namespace

TEST_CASE(
    "Every hostile request to any endpoint is refused with a message naming the field, the "
    "value and what is valid, and changes neither the database nor the links",
    "[protocol][netns]") {
  Lab lab;
  set_up_state(lab);
  const Snapshot before = lab.snapshot();
  REQUIRE_THAT(before.tables, Catch::Contains(kEp));
  REQUIRE(before.links.count("mv60d9877deda3"));

  const auto table = rows();
  REQUIRE(table.size() >= 60);
  std::set<std::string> paths;
  for (const auto& row : table) {
    paths.insert(row.path);
    INFO("row: " << row.name << "\nrequest: " << row.path << " " << row.body.substr(0, 300));
    const Answer a = lab.daemon.post(row.path, row.body);
    INFO("answer: " << a.status << " " << a.body.substr(0, 600));
    CHECK(a.status == row.status);
    json body = json::parse(a.body, nullptr, false);  // valid JSON is valid UTF-8
    CHECK(body.is_object());
    CHECK((body.is_object() && body["Err"].is_string()));
    const std::string message = body.is_object() ? body.value("Err", std::string()) : "";
    for (const auto& m : row.mentions) CHECK_THAT(message, Catch::Contains(m));
    if (row.path.rfind("/IpamDriver.", 0) == 0) CHECK(body["Error"] == body["Err"]);
    CHECK(a.body.size() < 2000);  // hostile input is quoted short
    // One line: no control character survives into what `docker` prints.
    CHECK(message.find_first_of(std::string("\0\x01\x1b\n\r\t\x7f", 7)) == std::string::npos);
    CHECK(lab.snapshot() == before);
  }
  // Every driver call that takes a body was attacked.
  CHECK(paths.size() >= 12);

  // Still serving as before: the endpoint leaves and joins again on the same link.
  lab.ok("/NetworkDriver.Leave", ids(kNet, kEp));
  lab.ok("/NetworkDriver.Join", ids(kNet, kEp));
  CHECK(lab.snapshot().links == before.links);
}

TEST_CASE(
    "Teardown calls for ids mvlan does not know succeed and change nothing, so Docker's "
    "retries after a crash never stick",
    "[protocol][netns]") {
  Lab lab;
  set_up_state(lab);
  const Snapshot before = lab.snapshot();
  lab.ok("/NetworkDriver.Leave", ids(kNet, kNewEp));
  lab.ok("/NetworkDriver.DeleteEndpoint", ids(kNet, kNewEp));
  lab.ok("/NetworkDriver.DeleteNetwork", R"({"NetworkID":")" + kNewNet + "\"}");
  lab.ok("/IpamDriver.ReleasePool", R"({"PoolID":"LocalDefault/203.0.113.0/24"})");
  CHECK(lab.snapshot() == before);
}

}  // namespace mvlan::test
