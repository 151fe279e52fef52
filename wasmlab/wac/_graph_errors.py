"""The errors of the composition graph (building and encoding it), each with the reference's
message; apart so that the graph and its encoder both raise them without importing each other."""

from __future__ import annotations

__all__ = [
    "GraphError", "TypeAlreadyDefined", "CannotDefineResource", "ExportConflict", "InvalidExternName",
    "ImportAlreadyExists", "InvalidImportName", "PackageAlreadyRegistered", "NodeIsNotAnInstance",
    "InstanceMissingExport", "ExportAlreadyExists", "InvalidExportName", "MustExportDefinition",
    "NodeIsNotAnInstantiation", "InvalidArgumentName", "ArgumentTypeMismatch", "ArgumentAlreadyPassed",
    "ValidationFailure", "GraphContainsCycle", "ImplicitImportConflict", "ImportTypeMergeConflict",
]


class GraphError(Exception):
    """An operation on the composition graph failed; ``str(err)`` is the reference's message."""

    template = "{message}"

    def __init__(self, **attrs):
        self.__dict__.update(attrs)
        super().__init__(self.template.format(**attrs))

    @property
    def message(self) -> str:
        return self.args[0]


def _error(name: str, template: str):
    return type(name, (GraphError,), {"template": template})


TypeAlreadyDefined = _error("TypeAlreadyDefined", "the provided type has already been defined in the graph")
CannotDefineResource = _error("CannotDefineResource", "a resource type cannot be defined in the graph")
ExportConflict = _error("ExportConflict", "type name `{name}` conflicts with an existing export of the same name")
InvalidExternName = _error("InvalidExternName", "type name `{name}` is not valid")
ImportAlreadyExists = _error("ImportAlreadyExists", "import name `{name}` already exists in the graph")
InvalidImportName = _error("InvalidImportName", "import name `{name}` is not valid")
PackageAlreadyRegistered = _error("PackageAlreadyRegistered", "package `{key}` has already been registered in the graph")
NodeIsNotAnInstance = _error("NodeIsNotAnInstance", "expected source node to be an instance, but the node is a {kind}")
InstanceMissingExport = _error("InstanceMissingExport", "instance does not have an export named `{export}`")
ExportAlreadyExists = _error("ExportAlreadyExists", "an export with the name `{name}` already exists")
InvalidExportName = _error("InvalidExportName", "export name `{name}` is not valid")
MustExportDefinition = _error("MustExportDefinition", "cannot unexport a type definition")
NodeIsNotAnInstantiation = _error("NodeIsNotAnInstantiation", "the specified node is not an instantiation")
InvalidArgumentName = _error("InvalidArgumentName", "argument name `{name}` is not an import of package `{package}`")
ArgumentTypeMismatch = _error("ArgumentTypeMismatch", "mismatched instantiation argument `{name}`")
ArgumentAlreadyPassed = _error("ArgumentAlreadyPassed", "argument `{name}` has already been passed to the instantiation")
ValidationFailure = _error("ValidationFailure", "encoding produced a component that failed validation")
GraphContainsCycle = _error("GraphContainsCycle", "the graph contains a cycle and cannot be encoded")
ImplicitImportConflict = _error(
    "ImplicitImportConflict",
    "an instantiation of package `{package}` implicitly imports an item named `{name}`, "
    "but it conflicts with an explicit import of the same name")
ImportTypeMergeConflict = _error(
    "ImportTypeMergeConflict",
    "failed to merge the type definition for implicit import `{import_name}` due to conflicting types")
