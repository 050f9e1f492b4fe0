import * as grpc from '@grpc/grpc-js';
import protobuf from 'protobufjs';

/**
 * Just enough of a PD (TiDB's placement driver) for `tidb-lightning-ctl`: it makes a PD client
 * before it looks at its flags, and that client wants a cluster id and a leader from PD's
 * `GetMembers` before it is made (with no PD it retries for minutes, then crashes). Its checkpoint
 * commands (--checkpoint-dump, --checkpoint-remove, ...) then never talk to PD again. Listens on
 * 127.0.0.1 only.
 */
export interface FakePd {
  /** host:port, for `[tidb] pd-addr`. */
  address: string;
  stop(): Promise<void>;
}

// The messages of kvproto's pdpb.proto that GetMembers uses, with their field numbers.
const pdpb = protobuf.parse(`
syntax = "proto3";
package pdpb;
message RequestHeader { uint64 cluster_id = 1; uint64 sender_id = 2; }
message Error { int32 type = 1; string message = 2; }
message ResponseHeader { uint64 cluster_id = 1; Error error = 2; }
message Member { string name = 1; uint64 member_id = 2; repeated string peer_urls = 3; repeated string client_urls = 4; }
message GetMembersRequest { RequestHeader header = 1; }
message GetMembersResponse { ResponseHeader header = 1; repeated Member members = 2; Member leader = 3; Member etcd_leader = 4; }
`).root;

export async function startFakePd(): Promise<FakePd> {
  const request = pdpb.lookupType('pdpb.GetMembersRequest');
  const response = pdpb.lookupType('pdpb.GetMembersResponse');
  const server = new grpc.Server();
  let url = '';
  const service: grpc.ServiceDefinition = {
    GetMembers: {
      path: '/pdpb.PD/GetMembers',
      requestStream: false,
      responseStream: false,
      requestSerialize: (value: object) => Buffer.from(request.encode(request.fromObject(value)).finish()),
      requestDeserialize: (bytes: Buffer) => request.decode(bytes),
      responseSerialize: (value: object) => Buffer.from(response.encode(response.fromObject(value)).finish()),
      responseDeserialize: (bytes: Buffer) => response.decode(bytes),
    },
  };
  server.addService(service, {
    GetMembers: (_call: grpc.ServerUnaryCall<unknown, unknown>, callback: grpc.sendUnaryData<unknown>) => {
      const member = { name: 'fake-pd', memberId: 1, peerUrls: [url], clientUrls: [url] };
      callback(null, { header: { clusterId: 1 }, members: [member], leader: member, etcdLeader: member });
    },
  });
  // Any other method (GetClusterInfo, ...) answers UNIMPLEMENTED, which the PD client accepts.
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound))),
  );
  url = `http://127.0.0.1:${port}`;
  return {
    address: `127.0.0.1:${port}`,
    stop: () =>
      new Promise<void>((resolve) => {
        server.tryShutdown(() => resolve());
        setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, 2_000).unref();
      }),
  };
}
