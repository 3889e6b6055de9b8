"""An export's metrics as the mapping reads them: the ``opentelemetry-proto`` messages with a
number data point's attributes left as their serialized ``KeyValue`` bytes.

The request is parsed, and so validated, by the official classes first (``encoding.py``);
this view is a second parse of the same bytes by upb, with a copy of the official schema in
which one field is retyped: ``NumberDataPoint.attributes`` (field 7, a length-delimited
record on the wire either way) as ``bytes``. The mapping remembers labels by an attribute's
bytes, and reading attributes as messages cost a wrapper object each and a
``SerializeToString`` call to get those bytes back: the view takes about a tenth off the
server's instructions per OTLP sample, its own parse included.
"""

from __future__ import annotations

from types import ModuleType

from google.protobuf.descriptor_pb2 import FieldDescriptorProto, FileDescriptorProto
from google.protobuf.message_factory import GetMessages
from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2
from opentelemetry.proto.common.v1 import common_pb2
from opentelemetry.proto.metrics.v1 import metrics_pb2
from opentelemetry.proto.resource.v1 import resource_pb2


def _file(module: ModuleType) -> FileDescriptorProto:
    """A schema file of ``opentelemetry-proto``, the number data point's attributes retyped."""
    proto = FileDescriptorProto()
    module.DESCRIPTOR.CopyToProto(proto)
    if module is metrics_pb2:
        point = next(m for m in proto.message_type if m.name == "NumberDataPoint")
        attributes = next(f for f in point.field if f.name == "attributes")
        attributes.type = FieldDescriptorProto.TYPE_BYTES
        attributes.ClearField("type_name")
    return proto


# In a pool of their own (``GetMessages`` makes one): the official classes keep theirs.
_CLASSES = GetMessages(
    [_file(m) for m in (common_pb2, resource_pb2, metrics_pb2, metrics_service_pb2)]
)
ExportMetricsView = _CLASSES[metrics_service_pb2.ExportMetricsServiceRequest.DESCRIPTOR.full_name]
ResourceMetricsView = _CLASSES[metrics_pb2.ResourceMetrics.DESCRIPTOR.full_name]
