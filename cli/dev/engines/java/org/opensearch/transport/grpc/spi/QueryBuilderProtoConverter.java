// Stand-in for an interface of OpenSearch's transport-grpc module SPI, which is not published to Maven Central. The k-NN plugin
// implements it to offer its query over gRPC; loading KNNPlugin needs the name to exist. The gRPC transport itself is not run here.
package org.opensearch.transport.grpc.spi;

public interface QueryBuilderProtoConverter {}
