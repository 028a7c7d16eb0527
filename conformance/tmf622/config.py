"""Writes the CTK's config.json: where the API is, a demo channel's bearer token, and a POST example
that is a valid order in the demo data (a data plan on CR line 69877689)."""

import json
import sys

base_url, token = sys.argv[1], sys.argv[2]
config = {
    "url": f"{base_url}/tmf-api/productOrderingManagement/v4/",
    "headers": {"Accept": "application/json", "Content-Type": "application/json", "Authorization": f"Bearer {token}"},
    "payloads": {
        "ProductOrder": {
            "POST": {
                "payload": {
                    "productOrderItem": [
                        {
                            "id": "123",
                            "action": "add",
                            "productOffering": {"id": "OFFER-DP-001"},
                            "product": {
                                "productCharacteristic": [
                                    {"name": "MSISDN", "value": "69877689"},
                                    {"name": "planType", "value": "DataPlan"},
                                ]
                            },
                        }
                    ],
                    "relatedParty": [{"id": "456-dd-df45", "@referredType": "Individual"}],
                }
            }
        }
    },
}
print(json.dumps(config, indent=2))
