"""Exchange distribution lists <-> ERP contact groups: an example item-type plugin for erp-exchange-plugin."""
