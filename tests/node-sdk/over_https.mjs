// The official Node SDK (@alicloud/vpc20160428) against vpngw over HTTPS. The generated CA is
// trusted the way docs/sdk.md shows: NODE_EXTRA_CA_CERTS (read by node at start-up). Prints one
// JSON line: the customer gateway created and described, and the error a client gets when it
// reaches the same server without that CA (a child node without NODE_EXTRA_CA_CERTS).
// Environment: VPNGW_ENDPOINT (host:port), ALIBABA_CLOUD_ACCESS_KEY_ID/SECRET, CGW_IP.
import { execFileSync } from "node:child_process";
import { $OpenApiUtil } from "@alicloud/openapi-core";
import VpcModule, * as $Vpc from "@alicloud/vpc20160428";

const Vpc = VpcModule.default ?? VpcModule;
const models = $Vpc.CreateCustomerGatewayRequest ? $Vpc : VpcModule;

function client() {
  return new Vpc(new $OpenApiUtil.Config({
    accessKeyId: process.env.ALIBABA_CLOUD_ACCESS_KEY_ID,
    accessKeySecret: process.env.ALIBABA_CLOUD_ACCESS_KEY_SECRET,
    endpoint: process.env.VPNGW_ENDPOINT,
    protocol: "https",
    regionId: "cn-hangzhou",
  }));
}

async function main() {
  if (process.argv[2] === "untrusted") {
    try {
      await client().describeVpnGateways(new models.DescribeVpnGatewaysRequest({ regionId: "cn-hangzhou" }));
      console.log("no error");
    } catch (e) {
      console.log(String(e.message ?? e));
    }
    return;
  }
  const vpc = client();
  const created = await vpc.createCustomerGateway(new models.CreateCustomerGatewayRequest({
    regionId: "cn-hangzhou",
    ipAddress: process.env.CGW_IP,
    name: "node-over-https",
  }));
  const id = created.body.customerGatewayId;
  const described = await vpc.describeCustomerGateway(new models.DescribeCustomerGatewayRequest({ regionId: "cn-hangzhou", customerGatewayId: id }));
  const env = { ...process.env };
  delete env.NODE_EXTRA_CA_CERTS;
  const untrusted = execFileSync(process.execPath, [new URL(import.meta.url).pathname, "untrusted"], { env }).toString().trim();
  console.log(JSON.stringify({ created: id, described: described.body.customerGatewayId, untrusted }));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
