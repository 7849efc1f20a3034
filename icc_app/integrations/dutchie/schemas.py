"""Typed views of the Dutchie POS API payloads we read (their JSON, camelCase as sent). Only the fields the mapping
uses are listed; everything else is kept in the record's raw payload. `total=False`: Dutchie omits or nulls most
fields, so the mapping reads each with .get()."""

from __future__ import annotations

from typing import TypedDict


class LocationIdentity(TypedDict, total=False):  # GET /whoami
    locationId: int
    locationName: str | None
    lspName: str | None
    city: str | None
    state: str | None
    licenseNumber: str | None


class LabResult(TypedDict, total=False):
    labTest: str | None  # "THC", "THCA", "Total THC", "CBD", "beta-Myrcene" ...
    value: float | None
    labResultUnit: str | None  # "%", "mg", "mg/g", "ND", "LOQ" ...


class InventoryPackage(TypedDict, total=False):  # an item of GET /inventory and GET /reporting/inventory
    inventoryId: int
    productId: int
    sku: str | None
    productName: str | None
    category: str | None
    masterCategory: str | None
    quantityAvailable: float
    quantityUnits: str | None  # "g", "mg", "ea"
    unitWeight: float
    unitWeightUnit: str | None  # always "g"
    batchName: str | None
    packageId: str | None
    externalPackageId: str | None  # the state's tag (Metrc / BioTrack)
    packageStatus: str | None  # "Active", "Testing", "Quarantine"
    unitPrice: float
    recUnitPrice: float | None
    medUnitPrice: float | None
    unitCost: float | None  # /reporting/inventory only
    strain: str | None
    strainType: str | None
    size: str | None
    labResults: list[LabResult] | None
    effectivePotencyMg: float | None
    expirationDate: str | None
    brandName: str | None
    medicalOnly: bool


class ProductDetail(TypedDict, total=False):  # an item of GET /products
    productId: int
    productName: str | None
    onlineTitle: str | None
    category: str | None
    masterCategory: str | None
    ecomCategory: str | None
    strain: str | None
    strainType: str | None
    size: str | None
    netWeight: float | None
    netWeightUnit: str | None
    brandName: str | None
    isActive: bool
    isCoupon: bool
    thcContent: float | None
    thcContentUnit: str | None
    cbdContent: float | None
    cbdContentUnit: str | None
    price: float | None
    recPrice: float | None
    unitCost: float | None
    unitType: str | None
    defaultUnit: str | None


class TransactionItem(TypedDict, total=False):
    productId: int
    quantity: float
    unitPrice: float
    unitCost: float | None
    totalPrice: float
    totalDiscount: float
    isCoupon: bool
    isReturned: bool


class Transaction(TypedDict, total=False):  # an item of GET /reporting/transactions
    transactionId: int
    customerId: int
    transactionDate: str
    lastModifiedDateUTC: str
    isVoid: bool
    isReturn: bool
    transactionType: str | None  # Retail, Transfer, WholesaleOrder
    subtotal: float
    totalDiscount: float
    tax: float
    total: float
    items: list[TransactionItem] | None


class Customer(TypedDict, total=False):  # an item of GET /customer/customers-paginated
    customerId: int
    firstName: str | None
    lastName: str | None
    name: str | None
    emailAddress: str | None
    phone: str | None
    cellPhone: str | None
    dateOfBirth: str | None
    customerType: str | None
    optedIntoMarketing: bool | None
    state: str | None
    postalCode: str | None
    creationDate: str | None
    lastModifiedDateUTC: str | None
    mergedIntoCustomerId: int | None
    isAnonymous: bool
