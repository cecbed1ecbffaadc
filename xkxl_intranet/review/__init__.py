"""Expert review (评审): 附件1's indicators scored by experts, aggregated for the province's 择优推荐."""
