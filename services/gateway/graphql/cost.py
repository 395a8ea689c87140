"""Query cost: an estimate of how many values a query can return, checked before it runs.

strawberry has depth, alias and token limits but no cost analysis, and a depth limit alone
lets ``meetings(first: 500) { edges { node { group { members(first: 500) ... } } } }``
through. This is a graphql-core validation rule of our own:

* every selected field costs 1 (a scalar, ``__typename``, an object's own field);
* a field that takes ``first`` is paged: its items are multiplied by N, the value of ``first``
  (a literal, a variable, the variable's default, the argument's schema default, else
  ``default_page_size``). For a connection the items are the lists directly inside it
  (``edges``); ``totalCount`` and ``pageInfo`` are not multiplied. A paged field that is
  itself a list multiplies its whole sub-selection;
* a list of objects without ``first`` (``regions``) is bounded by the data, not by the client:
  it counts as ``unpaged_list_size`` items;
* introspection fields (``__schema``, ``__type``) cost 1: they have their own switch.

So ``{ meetings(first: 100) { totalCount edges { node { id theme } } } }`` costs
1 (meetings) + 1 (totalCount) + 1 (edges) + 100 x (1 node + 2 fields) = 303.

Fragments are summed like inline selections (for unions, every branch counts: an upper bound)
and ``@skip``/``@include`` are ignored (also an upper bound). A named fragment's cost is
memoised per page size, so a document of nested spreads cannot make the rule itself slow.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLField,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    ValidationContext,
    ValidationRule,
    VariableNode,
    get_named_type,
    get_nullable_type,
    is_interface_type,
    is_list_type,
    is_object_type,
)

DEFAULT_PAGE_SIZE = 50  # what the Query's connections return when `first` is omitted
UNPAGED_LIST_SIZE = 20  # assumed length of an object list without `first` (e.g. regions)
PAGE_ARGUMENT = "first"
COST_CODE = "QUERY_TOO_COSTLY"


def cost_rule(
    max_cost: int,
    variables: Mapping[str, Any] | None = None,
    *,
    default_page_size: int = DEFAULT_PAGE_SIZE,
    unpaged_list_size: int = UNPAGED_LIST_SIZE,
) -> type[ValidationRule]:
    """A validation rule refusing every operation whose cost is above ``max_cost``.

    ``variables`` are the request's variable values (validation runs before execution
    coerces them), so ``first: $n`` is priced at the ``n`` the client actually sent.
    """

    class QueryCostRule(ValidationRule):
        def enter_operation_definition(self, node: OperationDefinitionNode, *_args: Any) -> None:
            cost = operation_cost(
                self.context,
                node,
                variables or {},
                default_page_size=default_page_size,
                unpaged_list_size=unpaged_list_size,
            )
            if cost > max_cost:
                name = f"'{node.name.value}' " if node.name else ""
                self.report_error(
                    GraphQLError(
                        f"Query {name}is too costly: its cost is {cost:,}, the limit is "
                        f"{max_cost:,}. Ask for fewer items at a time: use a smaller `first` "
                        "on connections (especially nested ones) and follow "
                        "pageInfo.endCursor with `after` for the next page.",
                        node,
                        extensions={"code": COST_CODE, "cost": cost, "maxCost": max_cost},
                    )
                )

    return QueryCostRule


def operation_cost(
    context: ValidationContext,
    operation: OperationDefinitionNode,
    variables: Mapping[str, Any],
    *,
    default_page_size: int = DEFAULT_PAGE_SIZE,
    unpaged_list_size: int = UNPAGED_LIST_SIZE,
) -> int:
    """The cost of one operation of ``context``'s document (see the module's docstring)."""
    root = _root_type(context.schema, operation.operation)
    if root is None:
        return 0
    defaults = {
        d.variable.name.value: d.default_value for d in operation.variable_definitions or ()
    }
    return _Pricer(
        context, variables, defaults, default_page_size, unpaged_list_size
    ).selection_set(operation.selection_set, root, None)


def _root_type(schema: GraphQLSchema, operation: OperationType) -> GraphQLObjectType | None:
    if operation is OperationType.QUERY:
        return schema.query_type
    if operation is OperationType.MUTATION:
        return schema.mutation_type
    return schema.subscription_type


class _Pricer:
    def __init__(
        self,
        context: ValidationContext,
        variables: Mapping[str, Any],
        variable_defaults: Mapping[str, Any],
        default_page_size: int,
        unpaged_list_size: int,
    ) -> None:
        self.context = context
        self.variables = variables
        self.variable_defaults = variable_defaults
        self.default_page_size = default_page_size
        self.unpaged_list_size = unpaged_list_size
        self.fragments: dict[tuple[str, int | None], int] = {}
        self.visiting: set[str] = set()

    def selection_set(
        self, selection_set: SelectionSetNode, parent: GraphQLNamedType, page: int | None
    ) -> int:
        """``page``: the N of the paged field this selection belongs to, if any; the lists
        selected directly here are that page's items."""
        total = 0
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                total += self.field(selection, parent, page)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                target = self.context.schema.get_type(condition.name.value) if condition else None
                total += self.selection_set(selection.selection_set, target or parent, page)
            elif isinstance(selection, FragmentSpreadNode):
                total += self.fragment(selection.name.value, page)
        return total

    def fragment(self, name: str, page: int | None) -> int:
        key = (name, page)
        if key in self.fragments:
            return self.fragments[key]
        definition = self.context.get_fragment(name)
        if definition is None or name in self.visiting:  # unknown or a cycle: other rules say so
            return 0
        self.visiting.add(name)
        try:
            cost = self._fragment(definition, page)
        finally:
            self.visiting.discard(name)
        self.fragments[key] = cost
        return cost

    def _fragment(self, definition: FragmentDefinitionNode, page: int | None) -> int:
        target = self.context.schema.get_type(definition.type_condition.name.value)
        if target is None:
            return 0
        return self.selection_set(definition.selection_set, target, page)

    def field(self, node: FieldNode, parent: GraphQLNamedType, page: int | None) -> int:
        name = node.name.value
        if node.selection_set is None or name.startswith("__"):
            return 1  # a scalar or enum (also a list of them), __typename, introspection
        definition = _field_definition(parent, name)
        if definition is None:
            return 1  # unknown field: FieldsOnCorrectTypeRule reports it
        child = get_named_type(definition.type)
        is_list = is_list_type(get_nullable_type(definition.type))
        if PAGE_ARGUMENT in definition.args:
            size = self.page_size(node, definition)
            if is_list:  # a plain paged list: every item is one page entry
                return 1 + size * self.selection_set(node.selection_set, child, None)
            return 1 + self.selection_set(node.selection_set, child, size)  # a connection
        if is_list:
            items = page if page is not None else self.unpaged_list_size
            return 1 + items * self.selection_set(node.selection_set, child, None)
        return 1 + self.selection_set(node.selection_set, child, None)

    def page_size(self, node: FieldNode, definition: GraphQLField) -> int:
        value: Any = None
        argument = next((a for a in node.arguments or () if a.name.value == PAGE_ARGUMENT), None)
        if argument is not None:
            if isinstance(argument.value, IntValueNode):
                value = int(argument.value.value)
            elif isinstance(argument.value, VariableNode):
                var = argument.value.name.value
                value = self.variables.get(var)
                if value is None and isinstance(self.variable_defaults.get(var), IntValueNode):
                    value = int(self.variable_defaults[var].value)
        if value is None:  # omitted, or a variable not sent: the argument's own default
            value = definition.args[PAGE_ARGUMENT].default_value
        if isinstance(value, bool) or not isinstance(value, int):
            return self.default_page_size  # no default, or not an Int (coercion refuses it)
        return max(value, 0)


def _field_definition(parent: GraphQLNamedType, name: str) -> GraphQLField | None:
    if is_object_type(parent) or is_interface_type(parent):
        fields: dict[str, GraphQLField] = parent.fields  # type: ignore[attr-defined]
        return fields.get(name)
    return None  # a union: only __typename, handled above


__all__ = ["COST_CODE", "DEFAULT_PAGE_SIZE", "UNPAGED_LIST_SIZE", "cost_rule", "operation_cost"]
