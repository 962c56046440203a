import type { Page, PageQuery } from "../../contracts/index.js";

/** The largest page the store hands out. */
const PAGE_LIMIT = 200;

/** Every item of a paged listing, page by page (allocations and servers are few per query). */
export async function listAll<T>(list: (page: PageQuery) => Promise<Page<T>>): Promise<T[]> {
  const items: T[] = [];
  for (let offset = 0; ; offset += PAGE_LIMIT) {
    const page = await list({ limit: PAGE_LIMIT, offset });
    items.push(...page.items);
    if (page.items.length < PAGE_LIMIT || items.length >= page.total) return items;
  }
}
