"""Seed 001's six curl request bodies, verbatim (DataPlan, Plan, Addon; each with and without relatedParty)."""

from __future__ import annotations

DATAPLAN_WITH_PARTIES = """{
"category": "esimPrepaid",
"productOrderItem": [
{
"id": "1",
"action": "add",
"product": {
"isBundle": false,
"@type": "Product",
"productOffering": {
"id": "OFFER-DP-001"
},
"productCharacteristic": [
{
"name": "MSISDN",
"value": "69877689"
},
{
"name": "planType",
"value": "DataPlan"
}
]
}
}
],
"relatedParty": [
{
"id": "RESELLER-001",
"role": "Seller",
"@referredType": "Individual"
},
{
"id": "900770050",
"name": "Juan;Carlos;Perez;Gonzalez",
"role": "Customer",
"characteristic": [
{
"name": "identificationType",
"valueType": "string",
"value": "Passport"
}],
"@referredType": "Individual"
}
]
}"""

DATAPLAN = """{
"category": "esimPrepaid",
"productOrderItem": [
{
"id": "1",
"action": "add",
"product": {
"isBundle": false,
"@type": "Product",
"productOffering": {
"id": "OFFER-DP-001"
},
"productCharacteristic": [
{
"name": "MSISDN",
"value": "69877689"
},
{
"name": "planType",
"value": "DataPlan"
}
]
}
}
]
}"""

PLAN_WITH_PARTIES = """{
"category": "esimPrepaid",
"productOrderItem": [
{
"id": "1",
"action": "add",
"product": {
"isBundle": false,
"@type": "Product",
"productOffering": {
"id": "OFFER-DP-001"
},
"productCharacteristic": [
{
"name": "MSISDN",
"value": "69877689"
},
{
"name": "planType",
"value": "Plan"
}
]
}
}
],
"relatedParty": [
{
"id": "RESELLER-001",
"role": "Seller",
"@referredType": "Individual"
},
{
"id": "900770050",
"name": "Juan;Carlos;Perez;Gonzalez",
"role": "Customer",
"characteristic": [
{
"name": "identificationType",
"valueType": "string",
"value": "Passport"
}],
"@referredType": "Individual"
}
]
}"""

PLAN = """{
"category": "esimPrepaid",
"productOrderItem": [
{
"id": "1",
"action": "add",
"product": {
"isBundle": false,
"@type": "Product",
"productOffering": {
"id": "OFFER-DP-001"
},
"productCharacteristic": [
{
"name": "MSISDN",
"value": "69877689"
},
{
"name": "planType",
"value": "Plan"
}
]
}
}
]
}"""

ADDON_WITH_PARTIES = """{
"category": "esimPrepaid",
"productOrderItem": [
{
"id": "1",
"action": "add",
"product": {
"isBundle": false,
"@type": "Product",
"productOffering": {
"id": "OFFER-DP-001"
},
"productCharacteristic": [
{
"name": "MSISDN",
"value": "69877689"
},
{
"name": "planType",
"value": "Addon"
}
]
}
}
],
"relatedParty": [
{
"id": "RESELLER-001",
"role": "Seller",
"@referredType": "Individual"
},
{
"id": "900770050",
"name": "Juan;Carlos;Perez;Gonzalez",
"role": "Customer",
"characteristic": [
{
"name": "identificationType",
"valueType": "string",
"value": "Passport"
}],
"@referredType": "Individual"
}
]
}"""

ADDON = """{
"category": "esimPrepaid",
"productOrderItem": [
{
"id": "1",
"action": "add",
"product": {
"isBundle": false,
"@type": "Product",
"productOffering": {
"id": "OFFER-DP-001"
},
"productCharacteristic": [
{
"name": "MSISDN",
"value": "69877689"
},
{
"name": "planType",
"value": "Addon"
}
]
}
}
]
}"""

SEED_EXAMPLES = {
    "dataplan_with_parties": DATAPLAN_WITH_PARTIES,
    "dataplan": DATAPLAN,
    "plan_with_parties": PLAN_WITH_PARTIES,
    "plan": PLAN,
    "addon_with_parties": ADDON_WITH_PARTIES,
    "addon": ADDON,
}
