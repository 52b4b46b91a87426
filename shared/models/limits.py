"""DynamoDB transaction sizes that bound an order and its sourcing plan."""

# Reserving a plan is one DynamoDB transaction (AWS: at most 100 actions): the order's status change,
# its timeline entry and the plan itself (3), per shipment its fulfillment and its warehouse's count
# of orders today and its reservation item (3), and per (SKU, warehouse) pair the stock bucket's
# update and its ledger entry (2; 2 more per extra bucket of a hot SKU it takes units from).
TRANSACTION_ACTIONS_LIMIT = 100
ORDER_ACTIONS = 3
ACTIONS_PER_SHIPMENT = 3
ACTIONS_PER_PAIR = 2

DEFAULT_MAX_SHIPMENTS = 3
# The most shipments any plan can have within one transaction: each ships at least one pair.
MAX_SHIPMENTS_LIMIT = (TRANSACTION_ACTIONS_LIMIT - ORDER_ACTIONS) // (ACTIONS_PER_SHIPMENT + ACTIONS_PER_PAIR)
