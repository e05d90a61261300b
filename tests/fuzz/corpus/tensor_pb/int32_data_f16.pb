
*€x€€Bint32_data_f16