// Stand-in for an interface of OpenSearch's transport-grpc module SPI (not published to Maven Central); see QueryBuilderProtoConverter.
package org.opensearch.transport.grpc.spi;

public interface QueryBuilderProtoConverterRegistry {}
